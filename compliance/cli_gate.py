"""CLI commands of the policies issue: `gate` and `attest`. Keep imports light.

`compliance gate` must answer in well under a second on a saved assessment: it imports
pydantic, PyYAML and the policies package only, never the engines or the model libraries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

STATUS_WORDS = {
    "pass": "PASS",
    "fail": "FAIL",
    "warn": "WARN",
    "open": "OPEN",
    "insufficient_data": "NO DATA",
    "not_applicable": "N/A",
    "waived": "WAIVED",
}


def _split(refs: list[str]) -> list[str]:
    """`--policy feat,privacy` as `--policy feat --policy privacy` (as --protected takes
    commas); an empty name is refused."""
    from compliance.cli import fail

    out = [r.strip() for ref in refs for r in ref.split(",")]
    if any(not r for r in out):
        fail(f"--policy takes a pack id or a YAML file, got {', '.join(map(repr, refs))}")
    return out


def register(app: typer.Typer) -> None:
    """Add the policy commands to `app`."""
    from compliance.cli import fail, handle_errors

    @app.command()
    @handle_errors
    def gate(
        assessment: Annotated[Path, typer.Argument(help="A saved assessment.json.")],
        policy: Annotated[
            list[str],
            typer.Option(
                "--policy",
                help="Policy pack id or YAML file (repeatable); default: the packs recorded "
                "in the assessment.",
            ),
        ] = [],  # noqa: B006
        attestations: Annotated[
            Path | None,
            typer.Option("--attestations", help="Filled attestation questionnaire (YAML)."),
        ] = None,
        waivers: Annotated[
            Path | None, typer.Option("--waivers", help="Waivers file (YAML).")
        ] = None,
        baseline: Annotated[
            Path | None,
            typer.Option(
                "--baseline",
                help="A previous assessment.json: a figure that got worse beyond the "
                "tolerance is a finding.",
            ),
        ] = None,
        junit: Annotated[
            Path | None,
            typer.Option("--junit", help="Write JUnit XML here (one test case per check)."),
        ] = None,
        json_out: Annotated[
            Path | None, typer.Option("--json", help="Write the findings as JSON here.")
        ] = None,
        as_of: Annotated[
            str | None,
            typer.Option(
                "--as-of", help="Judge waiver expiry on this date (YYYY-MM-DD; default today, UTC)."
            ),
        ] = None,
        fail_on_open: Annotated[
            bool,
            typer.Option(
                "--fail-on-open", help="Exit 1 also when a blocking finding is open or lacks data."
            ),
        ] = False,
        write_assessment: Annotated[
            Path | None,
            typer.Option(
                "--write-assessment",
                help="Also write a copy of the assessment with this policy evaluation "
                "(attestations and waivers included), for the report.",
            ),
        ] = None,
        quiet: Annotated[
            bool, typer.Option("--quiet", "-q", help="Print only the verdict.")
        ] = False,
    ) -> None:
        """Evaluate policy packs on a saved assessment.

        Exit code 0: no blocking finding fails; 1: one does (an expired waiver counts);
        2: bad input.
        """
        import datetime as dt

        from compliance.assessment import load_assessment
        from policies import evaluate_inputs, findings_json, junit_xml
        from policies._writers import check_outputs, write_files

        day = None
        if as_of is not None:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError:
                fail(f"--as-of takes a date YYYY-MM-DD, got {as_of!r}")
        outputs = [
            (junit, "--junit"),
            (json_out, "--json"),
            (write_assessment, "--write-assessment"),
        ]
        policy = _split(policy)  # before the guard: '--policy privacy,pack.yaml' names a file
        inputs = [
            (assessment, "assessment"),
            *[(p, "policy pack") for p in map(Path, policy) if p.is_file()],
        ]
        inputs += [(p, role) for p, role in ((attestations, "attestations file"),
                   (waivers, "waivers file"), (baseline, "baseline")) if p is not None]  # fmt: skip
        check_outputs(outputs, inputs)
        saved = load_assessment(assessment)
        refs = list(policy)
        if not refs and saved.policy is not None:
            refs = [
                p.id if p.source == "builtin" or not p.path else p.path for p in saved.policy.packs
            ]
            check_outputs(
                outputs, [*inputs, *[(Path(r), "policy pack") for r in refs if Path(r).is_file()]]
            )
        if not refs:
            fail(
                f"{assessment}: no policy pack recorded in the assessment; name one with --policy",
                hint="built-in packs: feat, privacy, nyc-ll144, eeoc-four-fifths, eu-ai-act",
            )
        try:
            created: dt.date | None = dt.datetime.fromisoformat(saved.created_at).date()
        except ValueError:  # an edited or foreign file: nothing to warn against
            created = None
        if day is not None and created is not None and day < created:
            typer.echo(
                f"warning: --as-of {day.isoformat()} is before the assessment was made "
                f"({created.isoformat()}): waivers and review dates are judged as of a past "
                "day, so an expired waiver may count as valid",
                err=True,
            )
        section, used = evaluate_inputs(
            saved, refs, attestations=attestations, waivers=waivers, baseline=baseline, as_of=day
        )
        if not policy and saved.policy is not None:
            recorded = {p.id: p for p in saved.policy.packs}
            for ref in section.packs:
                before = recorded.get(ref.id)
                if before is not None and before.sha256 and before.sha256 != ref.sha256:
                    typer.echo(
                        f"warning: pack {ref.id} ({ref.path or 'built-in'}) has changed since "
                        f"the assessment recorded it (sha256 {before.sha256[:12]}... then, "
                        f"{(ref.sha256 or '')[:12]}... now); it is evaluated as it is now",
                        err=True,
                    )
        blocking_open = section.verdict == "open"
        code = 1 if section.verdict == "fail" or (fail_on_open and blocking_open) else 0
        files: list[tuple[Path, str]] = []
        if junit is not None:
            files.append((junit, junit_xml(section, fail_on_open=fail_on_open)))
        if json_out is not None:
            text = findings_json(section, exit_code=code, assessment=str(assessment))
            files.append((json_out, text))
        if write_assessment is not None:
            import hashlib

            from compliance.assessment import InputFile

            added = [
                InputFile(
                    path=str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                    role=role, size=path.stat().st_size,
                )
                for path, role in used
            ]  # fmt: skip
            updated = saved.model_copy(
                update={"policy": section, "inputs": [*saved.inputs, *added]}
            )
            files.append((write_assessment, updated.to_json()))
        write_files(files)
        if not quiet:
            for f in section.findings:
                word = STATUS_WORDS[f.status]
                mark = "" if f.severity == "blocking" else " (advisory)"
                typer.echo(f"{word:8} {f.pack}/{f.check}{mark}: {f.title}. {f.message}")
        counts = ", ".join(f"{n} {s}" for s, n in section.counts.items() if n)
        judged = sum(f.status in ("pass", "fail", "warn", "waived") for f in section.findings)
        if not judged:
            counts += f"; none of the {len(section.findings)} checks could be judged"
        packs = ", ".join(f"{p.id} {p.version}" for p in section.packs)
        typer.echo(f"verdict: {section.verdict.upper()} ({counts}) - packs: {packs}")
        raise typer.Exit(code)

    attest = typer.Typer(help="Attestation questionnaires a person answers.", no_args_is_help=True)
    app.add_typer(attest, name="attest")

    @attest.command("init")
    @handle_errors
    def attest_init(
        policy: Annotated[
            list[str], typer.Option("--policy", help="Policy pack id or YAML file (repeatable).")
        ],
        out: Annotated[
            Path | None,
            typer.Option("--out", help="Write the questionnaire here (default: standard output)."),
        ] = None,
        overwrite: Annotated[
            bool, typer.Option("--overwrite", help="Replace an existing file.")
        ] = False,
    ) -> None:
        """Write the questionnaire of every attestation question of the packs (YAML)."""
        from policies import load_pack, questionnaire_text, write_text

        text = questionnaire_text([load_pack(p) for p in _split(policy)])
        if out is None:
            typer.echo(text, nl=False)
            return
        if out.exists() and not overwrite:
            fail(f"{out}: exists; choose another --out or pass --overwrite (answers would be lost)")
        write_text(out, text)
        typer.echo(
            f"wrote {out}: fill answer, evidence, name, role and date, "
            f"then pass --attestations {out}"
        )
