"""Benchmark: render and sign a complete report from a saved assessment.

A complete assessment (fairness on Adult with intersections, six membership attacks,
attribute inference, the `feat` and `privacy` packs) is made with `compliance demo`, unless
one is given. Each run is a fresh `compliance report` process, as a user would run it, so
the time includes starting Python and importing weasyprint, matplotlib and pyHanko.

    .venv/bin/python benchmarks/bench_report.py [--assessment PATH] [--runs 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assessment", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    exe = Path(sys.executable).with_name("compliance")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        assessment = args.assessment
        if assessment is None:
            from compliance.demo import run_demo

            start = time.perf_counter()
            run_demo(out=work / "demo", quiet=True)
            print(f"demo assessment made in {time.perf_counter() - start:.1f} s")
            assessment = work / "demo" / "assessment.json"
        subprocess.run([exe, "keygen", "--out", work / "keys"], check=True, capture_output=True)
        print(f"assessment: {assessment.stat().st_size / 1024:.0f} KiB")
        walls, renders, cpus = [], [], []
        for i in range(args.runs):
            out = work / f"report-{i}.pdf"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(
                [exe, "report", assessment, "--out", out, "--key", work / "keys/signing-key.pem"],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            line = done.stdout.strip().splitlines()[-1]
            renders.append(float(line.split("rendered in ")[1].split(" s")[0]))
            if i == 0:
                print(line)
        print(
            f"wall time per report (process start to signed file) over {args.runs} runs: "
            f"best {min(walls):.2f} s, median {statistics.median(walls):.2f} s"
        )
        print(
            f"CPU time per report process (user + system; what an idle core would take): "
            f"best {min(cpus):.2f} s, median {statistics.median(cpus):.2f} s"
        )
        print(
            f"render time inside the process (HTML, charts, PDF/A-3b): best {min(renders):.2f} s, "
            f"median {statistics.median(renders):.2f} s"
        )


if __name__ == "__main__":
    main()
