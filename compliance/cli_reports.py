"""CLI commands of the reports issue: `report`, `keygen`, `verify`, `pack`. Keep imports light."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from reports import SigningKey

PASSWORD_ENV = "COMPLIANCE_KEY_PASSWORD"

KEY_OPT = typer.Option("--key", help="Signing key: PKCS#12 (.p12/.pfx) or PEM (RSA).")
CERT_OPT = typer.Option("--cert", help="PEM certificate, when the key file does not hold it.")
PW_OPT = typer.Option("--password-env", help="Environment variable holding the key's password.")
TSA_OPT = typer.Option("--tsa-url", help="RFC 3161 timestamp server: makes a PAdES B-T signature.")


def _key(key: Path | None, cert: Path | None, password_env: str, demo_cert_out: Path) -> SigningKey:
    """Load the signing key, or make a self-signed demo key and write its certificate."""
    from rich.console import Console

    from reports import generate_self_signed, load_signing_key
    from reports._keys import check_signing_key

    if key is not None:
        loaded = load_signing_key(key, cert=cert, password=os.environ.get(password_env))
        check_signing_key(loaded)  # before rendering, not after
        return loaded
    demo = generate_self_signed("Compliance demo signer")
    demo_cert_out.write_bytes(demo.cert_pem())
    Console(stderr=True).print(
        "[yellow]note:[/yellow] no --key given: signed with a fresh self-signed demo key; the "
        f"report says so. Its certificate is in {demo_cert_out} (use it as --trust-root).",
        highlight=False,
        soft_wrap=True,
    )
    return demo


def register(app: typer.Typer) -> None:
    """Add the report commands to `app`."""
    from compliance.cli import handle_errors

    @app.command()
    @handle_errors
    def report(
        assessment: Annotated[Path, typer.Argument(help="assessment.json to report on.")],
        out: Annotated[Path, typer.Option("--out", help="The PDF to write.")],
        key: Annotated[Path | None, KEY_OPT] = None,
        cert: Annotated[Path | None, CERT_OPT] = None,
        password_env: Annotated[str, PW_OPT] = PASSWORD_ENV,
        tsa_url: Annotated[str | None, TSA_OPT] = None,
    ) -> None:
        """Render the signed PDF/A-3b report of a saved assessment, with its JSON attached."""
        from compliance.assessment import load_assessment
        from reports import build_report

        text = _read_text(assessment)
        loaded = load_assessment(assessment)
        signing = _key(key, cert, password_env, out.with_suffix(".signer-cert.pem"))
        result = build_report(loaded, out, key=signing, assessment_json=text, tsa_url=tsa_url)
        typer.echo(
            f"Report written to {result.path} ({result.pages} pages, "
            f"{result.bytes / 1024:.0f} KiB; rendered in {result.render_seconds:.1f} s, "
            f"signed by {signing.subject}{' (self-signed)' if signing.self_signed else ''})"
        )

    @app.command()
    @handle_errors
    def keygen(
        out: Annotated[Path, typer.Option("--out", help="Directory for the key and certificate.")],
        name: Annotated[str, typer.Option("--name", help="Common name of the signer.")] = (
            "Compliance signer"
        ),
        organization: Annotated[
            str | None, typer.Option("--organization", help="Organisation name.")
        ] = None,
        days: Annotated[int, typer.Option("--days", help="Validity in days.")] = 365,
    ) -> None:
        """Make a self-signed RSA key for trying signing out (a report signed with it says so)."""
        from compliance.errors import InputError
        from reports import generate_self_signed

        if days < 1:
            raise InputError(f"--days must be at least 1, got {days}", field="days")
        out.mkdir(parents=True, exist_ok=True)
        key_path, cert_path = out / "signing-key.pem", out / "signing-cert.pem"
        for p in (key_path, cert_path):
            if p.exists():
                raise InputError("already exists; choose another --out", path=p)
        made = generate_self_signed(name, organization=organization, days=days)
        made.write_pem(key_path)
        cert_path.write_bytes(made.cert_pem())
        typer.echo(f"Private key and certificate: {key_path} (keep it private; use as --key)")
        typer.echo(f"Certificate: {cert_path} (give it to verifiers as --trust-root)")
        typer.echo(f"SHA-256 fingerprint: {made.fingerprint}")

    @app.command(
        short_help="Check a signed report or submission pack: signatures, certificates, "
        "trust, manifest and input hashes."
    )
    @handle_errors
    def verify(
        report_pdf: Annotated[
            Path, typer.Argument(help="The signed report PDF, or a submission pack (.zip).")
        ],
        trust_root: Annotated[
            Path | None,
            typer.Option(
                "--trust-root",
                help="PEM/DER certificate(s) to trust for the signer; a PEM bundle may hold "
                "several, and the line says which one was used.",
            ),
        ] = None,
        data_dir: Annotated[
            Path | None,
            typer.Option(
                "--data-dir",
                help="Directory holding the input files to hash, found by their recorded "
                "relative path (e.g. eval/data.csv) or, failing that, by name.",
            ),
        ] = None,
        tsa_root: Annotated[
            Path | None,
            typer.Option(
                "--tsa-root",
                help="PEM/DER certificate(s) of the timestamp authority to trust; without it a "
                "timestamp is shown but is no evidence of the signing time.",
            ),
        ] = None,
        crl: Annotated[
            list[Path] | None,
            typer.Option(
                "--crl",
                help="Certificate revocation list(s), PEM or DER (repeatable): every "
                "certificate below the trust root must be shown unrevoked by one of them. "
                "Nothing is fetched.",
            ),
        ] = None,
    ) -> None:
        """Check signatures, whole-file coverage, later changes, certificates, trust and
        input hashes of a report; for a submission pack, also its signed manifest and that
        the zip holds exactly the files the manifest lists.

        Exit codes: 0 when every check holds and every signer chains to --trust-root;
        1 when a check fails, or without --trust-root (only integrity can be shown);
        2 on bad input (a missing, empty or non-regular file, a file that is neither a
        PDF nor a zip, an unreadable --trust-root).
        """
        from reports import verify_report
        from reports._pack import verify_pack
        from reports._verify import regular_file

        with regular_file(report_pdf).open("rb") as fh:
            is_zip = fh.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
        if is_zip:
            result = verify_pack(
                report_pdf, trust_root=trust_root, tsa_root=tsa_root, data_dir=data_dir, crl=crl
            )
        else:
            result = verify_report(
                report_pdf, trust_root=trust_root, data_dir=data_dir, tsa_root=tsa_root, crl=crl
            )
        for line in result.lines():
            typer.echo(line)
        if not result.ok:
            typer.echo(
                f"NOT VERIFIED: {report_pdf}: {len(result.failed())} check(s) failed", err=True
            )
            raise typer.Exit(1)
        if not result.signer_trusted:
            typer.echo(
                "INTEGRITY ONLY: the signature is intact, but the signer was not checked "
                "against a trusted root (pass --trust-root CERT.pem)",
                err=True,
            )
            raise typer.Exit(1)
        typer.echo(f"VERIFIED: {report_pdf}")

    @app.command()
    @handle_errors
    def pack(
        assessment: Annotated[Path, typer.Argument(help="assessment.json to pack.")],
        out: Annotated[Path, typer.Option("--out", help="The zip to write.")],
        report_pdf: Annotated[
            Path | None,
            typer.Option("--report", help="An already signed report (default: render one)."),
        ] = None,
        attestations: Annotated[
            Path | None, typer.Option("--attestations", help="Filled attestations file to include.")
        ] = None,
        key: Annotated[Path | None, KEY_OPT] = None,
        cert: Annotated[Path | None, CERT_OPT] = None,
        password_env: Annotated[str, PW_OPT] = PASSWORD_ENV,
        tsa_url: Annotated[str | None, TSA_OPT] = None,
    ) -> None:
        """Write the regulator submission pack: signed PDF, JSON, CSV tables, signed manifest."""
        from compliance.assessment import load_assessment
        from reports import build_pack

        text = _read_text(assessment)
        loaded = load_assessment(assessment)
        signing = _key(key, cert, password_env, out.with_suffix(".signer-cert.pem"))
        result = build_pack(
            loaded, out, key=signing, assessment_json=text, report_pdf=report_pdf,
            attestations=attestations, tsa_url=tsa_url,
        )  # fmt: skip
        typer.echo(f"Pack written to {result.path} ({len(result.files)} files)")
        typer.echo(f"manifest.json SHA-256: {result.manifest_sha256}")
        typer.echo(
            f"Check it: compliance verify {result.path} --trust-root CERT.pem "
            "(README.txt in the pack says how without this tool)"
        )


def _read_text(path: Path) -> str:
    """The assessment's exact text (attached byte for byte); load_assessment reports errors."""
    from compliance.errors import InputError

    if not path.is_file():
        raise InputError("no such file", path=path)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc})", path=path) from exc
