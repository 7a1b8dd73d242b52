"""The house rules a reader relies on (README "Architecture"), checked on the source: no import of
the project's own modules inside a function (the layers make them unnecessary; AppConfig.ready()
and migrations excepted), no module over 600 lines, and the layers kept (import-linter)."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

from csm.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("csm", "accounts", "health", "feedback")
MAX_LINES = 600


def _modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def _function_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if function.name == "ready":  # AppConfig.ready() connects receivers
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] in PACKAGES:
                    rel = path.relative_to(ROOT)
                    found.append(f"{rel}:{node.lineno} {function.name}() imports {name}")
    return found


def test_no_project_import_sits_inside_a_function():
    found = [line for path in _modules() for line in _function_imports(path)]
    assert found == []


def test_no_module_is_over_600_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in _modules()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_layers_hold():
    """`lint-imports` with the contract in pyproject.toml (also run by `make lint`)."""
    program = shutil.which("lint-imports", path=str(ROOT / ".venv" / "bin")) or shutil.which(
        "lint-imports"
    )
    if program is None:
        pytest.fail("lint-imports is not installed (pip install '.[dev]')")
    result = subprocess.run([program], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_task_beat_schedules_is_registered():
    """The tasks live beside what they run (csm.tasks, csm.lib.tasks); Celery finds them through
    the installed apps, so a move that loses one would leave beat sending a name nobody runs."""
    celery_app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert scheduled == {
        "csm.tasks.run_nightly_task",
        "csm.lib.tasks.drain_outbox_task",
        "csm.webhooks.tasks.drain_webhooks_task",
        "csm.workflow.tasks.evaluate_dirty_accounts_task",
    }
    assert scheduled <= set(celery_app.tasks)
