"""Wall time of `compliance gate` on a saved assessment, as a CI job would run it.

Builds an Adult assessment first (LightGBM on the bundled train split, `sex` and `race`
protected, 1,000 bootstrap draws) unless --assessment names one, then runs the gate in
fresh processes with every built-in pack, JUnit and JSON outputs, and reports the times
and whether a heavy library was imported.

    .venv/bin/python benchmarks/bench_gate.py [--assessment PATH] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PACKS = ["feat", "privacy", "nyc-ll144", "eeoc-four-fifths", "eu-ai-act"]
HEAVY = ("torch", "matplotlib", "weasyprint", "lightgbm", "sklearn", "scipy", "pandas", "numpy")


def build_assessment(folder: Path) -> Path:
    import lightgbm as lgb

    from compliance.datasets import bundled_path, load_bundled
    from compliance.models import categorical_frame
    from compliance.runner import run_assessment
    from compliance.spec import AssessSpec

    frame = load_bundled("adult-train")
    y = (frame.pop("income") == ">50K").astype(int)
    model = lgb.LGBMClassifier(n_estimators=100, random_state=0, verbose=-1)
    model.fit(categorical_frame(frame), y)
    model_path = folder / "adult_lightgbm.txt"
    model.booster_.save_model(str(model_path))
    out = folder / "out"
    spec = AssessSpec(
        data=bundled_path("adult-test"), target="income", protected=["sex", "race"], out=out,
        model=model_path, positive_label=">50K", bootstrap=1000, policies=list(PACKS),
    )  # fmt: skip
    run_assessment(spec)
    return out / "assessment.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assessment", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = args.assessment or build_assessment(folder)
        exe = Path(sys.executable).with_name("compliance")
        cmd = [str(exe), "gate", str(path), "-q", "--junit", str(folder / "g.xml"),
               "--json", str(folder / "g.json")]  # fmt: skip
        for pack in PACKS:
            cmd += ["--policy", pack]
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - start)
        probe = (
            "import sys\nfrom compliance.cli import app\n"
            f"try:\n    app({cmd[1:]!r})\nexcept SystemExit:\n    pass\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])"
        )
        heavy = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=False
        )
        findings = json.loads((folder / "g.json").read_text(encoding="utf-8"))
        size = path.stat().st_size
    n = len(findings["findings"])
    print(f"assessment: {size / 1024:.0f} KiB, packs: {', '.join(PACKS)}, findings: {n}")
    print(f"exit code: {proc.returncode}, verdict: {findings['verdict']}")
    best, median = min(times), statistics.median(times)
    print(f"gate wall time over {args.runs} runs: best {best:.3f} s, median {median:.3f} s")
    print(f"heavy modules imported: {heavy.stdout.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
