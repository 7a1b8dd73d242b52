"""`make run` on another PORT: the emailed links (SITE_URL) follow the port it serves on.

The recipes' Python is replaced by a command that prints the SITE_URL it is given (make's own
variables, overridden on its command line), so this runs make's real rules without serving."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRINT_SITE_URL = "sh -c 'echo SITE_URL=$$SITE_URL' --"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*args: str, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k != "SITE_URL"}
    result = subprocess.run(
        # -o: never (re)build the virtualenv here, whatever its stamp's age.
        ["make", "-s", "-o", ".venv/.installed-stamp", *args, f"PY={PRINT_SITE_URL}"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("SITE_URL=")]


def test_make_run_points_emailed_links_at_the_port_it_serves():
    lines = make("run", "PORT=18123")
    # migrate, seed_demo, run_nightly (which sends the demo's emails) and runserver
    assert lines == ["SITE_URL=http://127.0.0.1:18123"] * 4


def test_an_explicit_site_url_wins():
    assert (
        make("setup", "PORT=18123", SITE_URL="https://csm.example.com")
        == ["SITE_URL=https://csm.example.com"] * 3
    )
