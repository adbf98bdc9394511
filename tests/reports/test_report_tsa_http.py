"""`--tsa-url` end to end against a timestamp authority over HTTP (RFC 3161), served on
loopback by a test TSA: `report` and `pack` get their timestamps from it, and `verify
--tsa-root` accepts them. Nothing here leaves the machine."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner

from compliance.cli import app
from tests.reports.test_report_verify_review import _key, _pem

runner = CliRunner()


@pytest.fixture(scope="module")
def tsa_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, list[int]]]:
    """A TSA on 127.0.0.1 answering timestamp queries; yields its URL, its certificate and
    a list that counts the queries it answered."""
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    tsa = _key("Loopback TSA", start=-3650, end=3650, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    der = tsa.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa.cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(der),
    )
    answered: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415)
                return
            req = tsp.TimeStampReq.load(body)
            resp = asyncio.run(stamper.async_request_tsa_response(req)).dump()
            answered.append(1)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(resp)))
            self.end_headers()
            self.wfile.write(resp)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cert = _pem(tsa, tmp_path_factory.mktemp("tsa") / "tsa.pem")
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", cert, answered
    finally:
        server.shutdown()
        server.server_close()


def test_report_and_pack_timestamped_over_http_verify_against_the_tsa_root(
    assessment_file: Path, tsa_server: tuple[str, Path, list[int]], tmp_path: Path
) -> None:
    url, tsa_cert, answered = tsa_server
    keys = tmp_path / "keys"
    assert runner.invoke(app, ["keygen", "--out", str(keys)]).exit_code == 0
    key, cert = keys / "signing-key.pem", keys / "signing-cert.pem"
    pdf, pack = tmp_path / "report.pdf", tmp_path / "pack.zip"
    made = runner.invoke(
        app,
        ["report", str(assessment_file), "--out", str(pdf), "--key", str(key), "--tsa-url", url],
    )
    assert made.exit_code == 0, made.output
    after_report = len(answered)
    assert after_report >= 1  # pyHanko may ask once more to size the signature
    packed = runner.invoke(
        app, ["pack", str(assessment_file), "--out", str(pack), "--key", str(key), "--tsa-url", url]
    )
    assert packed.exit_code == 0, packed.output
    # the packed report's signature (as many queries as above) and the manifest's
    assert len(answered) == 2 * after_report + 1
    for target, stamps in ((pdf, ["timestamp 1:"]), (pack, ["timestamp (manifest):"])):
        checked = runner.invoke(
            app, ["verify", str(target), "--trust-root", str(cert), "--tsa-root", str(tsa_cert)]
        )
        assert checked.exit_code == 0, checked.output
        for stamp in stamps:
            line = next(x for x in checked.output.splitlines() if stamp in x)
            assert line.startswith("OK") and "Loopback TSA" in line, line


def test_an_unreachable_tsa_is_one_message_and_nothing_written(
    assessment_file: Path, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pdf = tmp_path / "report.pdf"
    done = runner.invoke(
        app,
        [
            "report",
            str(assessment_file),
            "--out",
            str(pdf),
            "--tsa-url",
            f"http://127.0.0.1:{port}/",
        ],
    )
    assert done.exit_code == 2, done.output
    assert "timestamp server" in done.output and "Traceback" not in done.output
    assert not pdf.exists()
