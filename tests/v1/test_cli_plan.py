"""`python -m server set-plan`, run as a host runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"},
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent.parent,
    )


def test_set_plan_puts_an_account_on_a_plan_and_refuses_unknown_ones(tmp_path):
    assert (
        run(tmp_path, "create-user", "elminster", "--email", "e@example.com", "--password", "mystra1234").returncode
        == 0
    )
    done = run(tmp_path, "set-plan", "Elminster", "premium")
    assert done.returncode == 0 and done.stdout.strip() == "elminster is on the premium plan"
    unknown_user = run(tmp_path, "set-plan", "nobody", "basic")
    assert unknown_user.returncode == 1 and unknown_user.stderr.strip() == "error: User not found"
    unknown_plan = run(tmp_path, "set-plan", "elminster", "platinum")
    assert unknown_plan.returncode == 2 and "invalid choice" in unknown_plan.stderr
