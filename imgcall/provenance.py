"""``read_provenance``: who made an image and whether its C2PA credentials hold up.

Presence needs nothing: `DecodedImage.c2pa` and the manifest's ``c2pa`` field come from
the container framing alone (`imgcall.formats.has_c2pa`). Reading the manifest itself
(claim generator, issuer, signing time, validation state) needs the optional
c2pa-python (``pip install 'imgcall[c2pa]'``), imported only here, on first use.

Offline, always: the reader is given settings that forbid fetching a remote manifest
and OCSP responses, so a file that points at a manifest elsewhere is reported with its
URL (never requested). "Valid" means the manifest and its hashes check out; whether the
signer is trusted is a separate question, answered only against a trust list, which
imgcall does not fetch either: an untrusted signer is listed among the ``failures``
(``signingCredential.untrusted``) without making a valid manifest invalid.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .formats import FORMATS, has_c2pa, sniff
from .image import DecodedImage

__all__ = ["Provenance", "read_provenance"]

_C2PA_EXTRA = "pip install 'imgcall[c2pa]'"
_OFFLINE = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
_REMOTE_URL = re.compile(r"remote manifests? from url (\S+)", re.I)
_MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Provenance:
    """What an image's C2PA manifest says, read offline."""

    format: str | None
    """The image format from the bytes (``PNG``, ``JPEG``, ...)."""
    embedded: bool
    """The container holds a C2PA manifest store (what ``c2pa`` says in the manifest)."""
    state: str
    """``"none"`` (no manifest), ``"Valid"``, ``"Invalid"``, ``"Trusted"``, ``"remote"``
    (the file points at a manifest elsewhere, not fetched) or ``"unreadable"``."""
    claim_generator: str | None = None
    """The software that made the claim, e.g. ``"ChatGPT"`` or ``"GPT-4o 0.1"``."""
    issuer: str | None = None
    """The signing certificate's organisation (``"OpenAI"``, ``"Google LLC"``, ...)."""
    signer: str | None = None
    """The signing certificate's common name."""
    signed_at: str | None = None
    """When it was signed, from a trusted timestamp where there is one."""
    title: str | None = None
    actions: tuple[str, ...] = ()
    """What the manifest says was done (``c2pa.created``, ``c2pa.edited``, ...)."""
    digital_source_type: str | None = None
    """E.g. ``.../trainedAlgorithmicMedia`` for generated images."""
    failures: tuple[str, ...] = ()
    """Validation failures, as ``code: explanation``."""
    remote_url: str | None = None
    """Where a remote manifest lives (never fetched by imgcall)."""
    detail: str | None = None
    """Why the manifest could not be read, when it could not."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The active manifest as c2pa-python gives it."""

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (without ``raw``)."""
        return {
            "format": self.format,
            "embedded": self.embedded,
            "state": self.state,
            "claim_generator": self.claim_generator,
            "issuer": self.issuer,
            "signer": self.signer,
            "signed_at": self.signed_at,
            "title": self.title,
            "actions": list(self.actions),
            "digital_source_type": self.digital_source_type,
            "failures": list(self.failures),
            "remote_url": self.remote_url,
            "detail": self.detail,
        }


def read_provenance(source: str | os.PathLike[str] | bytes | DecodedImage) -> Provenance:
    """Read and validate the C2PA manifest of an image file, its bytes, or a `DecodedImage`.

    Offline: a remote manifest is reported, not fetched. Needs ``imgcall[c2pa]``.

    Raises:
        ImportError: c2pa-python is not installed (the message says how to get it).
        OSError: the file cannot be read.
    """
    data = _bytes_of(source)
    try:
        import c2pa
    except ImportError as exc:
        raise ImportError(f"reading C2PA manifests needs c2pa-python: {_C2PA_EXTRA}") from exc
    fmt = sniff(data)
    embedded = fmt is not None and has_c2pa(data, fmt)
    if fmt is None or fmt == "SVG":
        return Provenance(fmt, False, "none", detail="not a raster image")
    mime = FORMATS[fmt].mime
    try:
        context = c2pa.Context(c2pa.Settings.from_dict(_OFFLINE))
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data), None, context)
    except c2pa.C2paError as exc:
        message = str(exc)
        url = _REMOTE_URL.search(message)
        if url is not None:
            return Provenance(
                fmt,
                embedded,
                "remote",
                remote_url=url.group(1),
                detail="the manifest is stored elsewhere; imgcall never fetches it",
            )
        return Provenance(fmt, embedded, "unreadable", detail=message)
    if reader is None:
        return Provenance(fmt, embedded, "none")
    with reader:
        manifest = reader.get_active_manifest() or {}
        state = reader.get_validation_state() or "unknown"
        results = reader.get_validation_results() or {}
    return _described(fmt, embedded, state, manifest, results)


def _bytes_of(source: str | os.PathLike[str] | bytes | DecodedImage) -> bytes:
    if isinstance(source, DecodedImage):
        return bytes(source.data)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    with open(Path(source), "rb") as fh:
        data = fh.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        raise OSError(f"{source} is over {_MAX_BYTES:,} bytes")
    return data


def _described(
    fmt: str, embedded: bool, state: str, manifest: dict[str, Any], results: dict[str, Any]
) -> Provenance:
    signature = manifest.get("signature_info") or {}
    info = manifest.get("claim_generator_info") or []
    generator = manifest.get("claim_generator")
    if not generator and info and isinstance(info[0], dict):
        name, version = info[0].get("name"), info[0].get("version")
        generator = f"{name} {version}" if name and version else name
    actions: list[str] = []
    source_type = None
    for assertion in manifest.get("assertions") or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            if isinstance(action, dict) and action.get("action"):
                actions.append(str(action["action"]))
                source_type = source_type or action.get("digitalSourceType")
    active = results.get("activeManifest") or {}
    failures = tuple(
        f"{f.get('code')}: {f.get('explanation')}"
        for f in active.get("failure") or []
        if isinstance(f, dict)
    )
    return Provenance(
        fmt,
        embedded,
        state,
        claim_generator=generator,
        issuer=signature.get("issuer"),
        signer=signature.get("common_name"),
        signed_at=signature.get("time"),
        title=manifest.get("title"),
        actions=tuple(actions),
        digital_source_type=source_type,
        failures=failures,
        raw=manifest,
    )
