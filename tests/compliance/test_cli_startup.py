"""`compliance --help` is fast and imports no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

HEAVY = ("torch", "matplotlib", "weasyprint", "lightgbm", "sklearn", "pandas", "opacus")

PROBE = """
import sys, runpy
sys.argv = ["compliance", *{args!r}]
try:
    runpy.run_module("compliance.cli", run_name="__main__")
except SystemExit:
    pass
import json
print("MODULES=" + json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _commands() -> list[list[str]]:
    import typer.main

    from compliance.cli import app

    group = typer.main.get_command(app)
    out = [["--help"]]
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        out.append([name, "--help"])
        for sub in getattr(cmd, "commands", {}):
            out.append([name, sub, "--help"])
    return out


@pytest.mark.parametrize("args", _commands(), ids=lambda a: " ".join(a))
def test_help_imports_nothing_heavy(args: list[str]) -> None:
    code = PROBE.format(args=args, heavy=HEAVY)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = next(x for x in res.stdout.splitlines() if x.startswith("MODULES="))
    assert json.loads(line.removeprefix("MODULES=")) == []
    assert "Usage" in res.stdout


def test_help_answers_in_under_half_a_second() -> None:
    best = min(_timed([sys.executable, "-m", "compliance.cli", "--help"]) for _ in range(3))
    assert best < 0.5, f"compliance --help took {best:.2f} s"


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.perf_counter() - start


def test_command_list_shows_one_sentence_per_command() -> None:
    """A command's line in `compliance --help` is a sentence, not a docstring's
    hard-wrapped lines (rich keeps those breaks, which split 'trust and' / 'input')."""
    import typer

    from compliance.cli import app

    group = typer.main.get_command(app)
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        # what typer's rich panel prints: the first paragraph of short_help or help
        shown = (cmd.short_help or cmd.help or "").strip().split("\n\n")[0]
        assert "\n" not in shown, f"{name}: {shown!r}"
