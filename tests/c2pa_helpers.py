"""C2PA-carrying images for the tests: really signed ones, and container-level stand-ins.

`sign` signs an image with c2pa-python (the ``imgcall[c2pa]`` extra, a test dependency)
and a throw-away ES256 certificate chain made here with ``cryptography``: the wheel ships
no test certificate, and a chain made on the spot needs no network and no secret. The
result is a real C2PA manifest store in the container, valid but from an untrusted signer.

`with_container_box` only puts the container framing a reader looks for (a ``caBX``
chunk, an APP11 JUMBF segment, a WebP ``C2PA`` chunk) into an image: no manifest, no
signature. It exercises presence detection on shapes a signer would not produce.
"""

from __future__ import annotations

import datetime
import functools
import io
import json
import struct
import zlib
from typing import Any

from PIL import Image

MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def picture(
    fmt: str, size: tuple[int, int] = (48, 32), color: tuple[int, int, int] = (20, 120, 200)
) -> bytes:
    """A small solid image in ``fmt`` made with Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


@functools.lru_cache(maxsize=1)
def _chain() -> tuple[str, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "imgcall tests"),
            ]
        )

    def usage(*, sign: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=not sign,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=sign,
            crl_sign=sign,
            encipher_only=False,
            decipher_only=False,
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    valid = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("imgcall test CA"))
        .issuer_name(name("imgcall test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage(sign=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("imgcall test signer"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(sign=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(
        serialization.Encoding.PEM
    )
    return pem.decode("ascii"), key


def sign(
    data: bytes, fmt: str, *, generator: str = "imgcall-tests", remote_url: str | None = None
) -> bytes:
    """``data`` with a real, embedded C2PA manifest signed by the throw-away chain.

    With ``remote_url`` the manifest is not embedded: the file only points at that URL.
    """
    import c2pa
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    certs, key = _chain()

    def es256(payload: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(payload, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    manifest = {
        "claim_generator_info": [{"name": generator, "version": "1.0"}],
        "title": "test image",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/"
                            "digitalsourcetype/trainedAlgorithmicMedia",
                        }
                    ]
                },
            }
        ],
    }
    signer = c2pa.Signer.from_callback(es256, c2pa.C2paSigningAlg.ES256, certs, None)
    builder = c2pa.Builder(json.dumps(manifest))
    if remote_url is not None:
        builder.set_no_embed()
        builder.set_remote_url(remote_url)
    out = io.BytesIO()
    builder.sign(signer, MIME[fmt], io.BytesIO(data), out)
    return out.getvalue()


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


JUMBF_C2PA = (
    b"JP\x02\x11\x00\x00\x00\x01"
    + struct.pack(">I", 64)
    + b"jumb"
    + struct.pack(">I", 30)
    + b"jumd"
    + b"c2pa\x00\x11\x00\x10\x80\x00\x00\xaa\x00\x38\x9b\x71\x03c2pa\x00"
)


def with_container_box(data: bytes, fmt: str, *, label: bytes = b"c2pa") -> bytes:
    """``data`` with the framing of an embedded C2PA store (no real manifest inside)."""
    if fmt == "PNG":
        body = struct.pack(">I", 40) + b"jumb" + b"\x00" * 32
        return data[:33] + _png_chunk(b"caBX", body) + data[33:]
    if fmt == "JPEG":
        payload = JUMBF_C2PA.replace(b"c2pa", label)
        segment = b"\xff\xeb" + struct.pack(">H", len(payload) + 2) + payload
        return data[:2] + segment + data[2:]
    if fmt == "WEBP":
        body = struct.pack(">I", 16) + b"jumb" + b"\x00" * 8
        chunk = b"C2PA" + struct.pack("<I", len(body)) + body
        riff = data[:4] + struct.pack("<I", len(data) - 8 + len(chunk)) + data[8:]
        return riff + chunk
    raise ValueError(fmt)
