"""docker-compose.yml cannot run here (no Docker engine), so check that it is wired sensibly and
that every command it runs names modules that exist in this project."""

from __future__ import annotations

import importlib
import re
import shlex
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
