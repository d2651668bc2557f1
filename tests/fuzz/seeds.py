"""Seed inputs for each fuzz target, from the bundled fixtures (real shapes, real images)."""

from __future__ import annotations

import base64
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
_MAX_SEED = 256 * 1024


def _files(*folders: str) -> list[bytes]:
    out = []
    for folder in folders:
        for path in sorted((FIXTURES / folder).iterdir()):
            if path.is_file() and path.stat().st_size <= _MAX_SEED:
                out.append(path.read_bytes())
    return out


def seeds(target: str) -> list[bytes]:
    """The seed inputs of ``target`` (see `tests.fuzz.targets.TARGETS`)."""
    images = _files("images")
    payloads = _files("items", "envelopes", "providers", "notebook")
    if target in ("decode", "to_pil_and_display"):
        return images
    if target == "decode_text":
        texts = [base64.b64encode(i) for i in images]
        return texts + [b"data:image/png;base64," + t for t in texts[:2]]
    if target in ("parse_call", "envelope"):
        return _files("items")
    return payloads
