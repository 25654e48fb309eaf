"""The command line as a user runs it: a fresh `python -m civic.counting`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from civic.counting import write_pabulib

REPO_ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [sys.executable, "-m", "civic.counting", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
    )


def test_json_output(tmp_path, election) -> None:
    path = tmp_path / "e.pb"
    write_pabulib(
        *election(10, {"A": 6, "B": 4, "C": 5}, [["A"], ["B"], ["A", "C"]]), path
    )
    done = run(str(path), "--rule", "mes", "--completion", "add1", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["rule"] == "mes-cost-add1"
    assert doc["winners"] == ["A", "B"]
    assert doc["total_cost"] == 10
    assert doc["explanations"]["C"]["funded"] is False
    assert doc["explanations"]["C"]["reason"] in ("supporters_could_not_afford",)


def test_text_output_with_comparison(tmp_path, election) -> None:
    path = tmp_path / "e.pb"
    write_pabulib(*election(10, {"A": 6, "B": 4}, [["A"], ["B"], ["A"]]), path)
    done = run(str(path), "--rule", "greedy", "--compare")
    assert done.returncode == 0, done.stderr
    assert "funded, in order:" in done.stdout
    assert "comparison" in done.stdout


def test_errors_are_one_line_without_traceback(tmp_path) -> None:
    bad = tmp_path / "bad.pb"
    bad.write_text(
        "META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\n"
        "project_id;cost\n1;5\nVOTES\nvoter_id;vote\n1;2\n"
    )
    for args in (
        [str(bad)],
        [str(tmp_path / "none.pb")],
        [str(bad), "--rule", "borda"],
        [str(bad), "--tie-break", "draw"],
    ):
        done = run(*args)
        assert done.returncode != 0
        assert "Traceback" not in done.stderr
        assert done.stderr.strip()
    done = run(str(bad))
    assert "line 10: vote for unknown project 2" in done.stderr


def test_counting_does_not_import_flask() -> None:
    code = (
        "import sys, civic.counting.cli;"
        "print('flask' in sys.modules, 'sqlalchemy' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        cwd=REPO_ROOT,
    )
    assert done.stdout.split() == ["False", "False"]
