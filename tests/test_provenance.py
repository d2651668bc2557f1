"""read_provenance (imgcall[c2pa]): the manifest read and validated offline."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import imgcall
from imgcall.provenance import read_provenance
from tests.c2pa_helpers import picture, sign

from .helpers import item


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_signed_file_reads_as_valid_from_an_untrusted_signer(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"signed.{fmt.lower()}"
    path.write_bytes(sign(picture(fmt), fmt, generator="test-generator"))
    found = read_provenance(path)
    assert (found.format, found.embedded, found.state) == (fmt, True, "Valid")
    assert found.claim_generator == "test-generator 1.0"
    assert (found.issuer, found.signer) == ("imgcall tests", "imgcall test signer")
    assert found.actions == ("c2pa.created",)
    assert found.digital_source_type is not None and found.digital_source_type.endswith(
        "trainedAlgorithmicMedia"
    )
    assert any(f.startswith("signingCredential.untrusted") for f in found.failures)
    assert found.to_dict()["state"] == "Valid"


def test_changed_pixels_make_it_invalid() -> None:
    signed = bytearray(sign(picture("PNG"), "PNG"))
    idat = signed.index(b"IDAT")
    signed[idat + 6] ^= 0xFF  # inside the compressed pixels
    found = read_provenance(bytes(signed))
    assert found.embedded and found.state == "Invalid"
    assert any("mismatch" in f or "dataHash" in f for f in found.failures), found.failures


def test_a_plain_file_has_none() -> None:
    found = read_provenance(picture("JPEG"))
    assert (found.embedded, found.state, found.claim_generator) == (False, "none", None)


def test_a_decoded_image_can_be_read_too() -> None:
    image = imgcall.decode(item("ig_1", sign(picture("PNG"), "PNG")))
    assert image.c2pa and read_provenance(image).state == "Valid"


@pytest.fixture
def counting_server() -> Iterator[tuple[str, list[str]]]:
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/manifest.c2pa", asked
    finally:
        server.shutdown()
        server.server_close()


def test_a_remote_manifest_is_reported_and_never_fetched(
    counting_server: tuple[str, list[str]],
) -> None:
    url, asked = counting_server
    found = read_provenance(sign(picture("PNG"), "PNG", remote_url=url))
    assert (found.embedded, found.state, found.remote_url) == (False, "remote", url)
    assert asked == []


def test_without_the_extra_the_error_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "c2pa", None)
    with pytest.raises(ImportError, match=r"pip install 'imgcall\[c2pa\]'"):
        read_provenance(picture("PNG"))
