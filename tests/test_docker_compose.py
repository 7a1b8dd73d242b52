"""docker-compose.yml cannot run here (no Docker engine), so check that it is wired sensibly and
that every command it runs names modules that exist in this project."""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command(service):
    cmd = COMPOSE["services"][service]["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else cmd


def test_it_describes_the_production_stack():
    assert set(COMPOSE["services"]) >= {"web", "worker", "beat", "postgres", "redis"}


def test_web_runs_gunicorn_on_the_real_wsgi_module():
    cmd = " ".join(command("web"))
    module_name = re.search(r"gunicorn (\S+):application", cmd).group(1)
    assert callable(importlib.import_module(module_name).application)
    for manage_command in re.findall(r"manage\.py (\w+)", cmd):
        assert manage_command in {"migrate", "collectstatic"}


def test_worker_and_beat_run_the_real_celery_app():
    for service, role in [("worker", "worker"), ("beat", "beat")]:
        cmd = command(service)
        assert cmd[:3] == ["celery", "-A", "csm"] and role in cmd
    from csm.celery import app

    assert app.main == "csm"
    assert "nightly-pipeline" in app.conf.beat_schedule
    app.loader.import_default_modules()
    assert app.conf.beat_schedule["nightly-pipeline"]["task"] in app.tasks


def test_the_app_services_get_database_and_redis_from_the_environment():
    for service in ("web", "worker", "beat"):
        env = COMPOSE["services"][service]["environment"]
        env = env if isinstance(env, dict) else dict(item.split("=", 1) for item in env)
        assert env["DATABASE_URL"].startswith("postgres")
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert set(COMPOSE["services"][service]["depends_on"]) >= {"postgres", "redis"}


def test_only_nginx_is_published_and_it_forwards_to_gunicorn():
    """Slow clients meet nginx, never gunicorn's sync workers (tests/test_slow_clients.py)."""
    proxy, web = COMPOSE["services"]["proxy"], COMPOSE["services"]["web"]
    assert proxy["image"].startswith("nginx:")
    assert "ports" not in web  # reachable only inside the compose network
    assert proxy["ports"] == ["8000:8000"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    bind = re.search(r"--bind 0\.0\.0\.0:(\d+)", " ".join(command("web"))).group(1)
    assert f"server web:{bind};" in conf
    assert "listen 8000;" in conf
    assert "proxy_request_buffering on;" in conf and "proxy_buffering on;" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert COMPOSE["x-app"]["environment"]["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"


def test_nginx_serves_what_collectstatic_writes():
    web_volumes = COMPOSE["services"]["web"]["volumes"]
    proxy_volumes = COMPOSE["services"]["proxy"]["volumes"]
    assert "static:/app/staticfiles" in web_volumes  # STATIC_ROOT's default in the image
    assert "static:/srv/csm/static:ro" in proxy_volumes
    assert "alias /srv/csm/static/;" in (ROOT / "deploy" / "nginx.conf").read_text()
    assert "static" in COMPOSE["volumes"]


def test_check_deploy_is_clean_with_the_compose_files_environment():
    """`manage.py check --deploy` with the settings the web service gets (its `${NAME:-default}`
    defaults, a real secret), not only with hand-picked production variables."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    for name, value in COMPOSE["services"]["web"]["environment"].items():
        env[name] = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))
    env["SECRET_KEY"] = "a-long-random-production-secret-" + "x7Qp2LmZ9vR4tY8uW1sN6bK3hJ5gF0dC"
    # Checks need no connection: the compose file's hosts do not resolve here.
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
