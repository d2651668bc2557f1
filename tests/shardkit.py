"""Builders for the shard, engine and object-storage tests: real batch files, folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import b64, noise_png, png

# Small shards, so that a file of a few MB is cut into several byte ranges.
SMALL_SHARD = 256 * 1024


def batch_line(n: int, data: bytes | None, *, custom_id: str | None = None) -> dict[str, Any]:
    """An OpenAI Batch API output line holding one image (or an error when no data)."""
    cid = custom_id or f"req-{n:04d}"
    if data is None:
        return {
            "id": f"batch_req_{n}",
            "custom_id": cid,
            "response": None,
            "error": {"code": "moderation_blocked", "message": "blocked"},
        }
    body = {
        "id": f"resp_{n:04d}",
        "object": "response",
        "status": "completed",
        "output": [
            {
                "id": f"ig_{n:04d}",
                "type": "image_generation_call",
                "status": "completed",
                "revised_prompt": f"prompt {n}",
                "result": b64(data),
            }
        ],
    }
    return {
        "id": f"batch_req_{n}",
        "custom_id": cid,
        "response": {"status_code": 200, "body": body},
        "error": None,
    }


def write_batch(path: Path, lines: int, *, side: int = 60, broken: int | None = None) -> Path:
    """A batch file of ``lines`` distinct noisy images (~11 KB of base64 per 60x60).

    Line 7 is an error line; ``broken`` (1-based) is a line that is not JSON; a blank
    line and a CRLF line are in there too, as real files have them.
    """
    with open(path, "wb") as out:
        for n in range(lines):
            if broken is not None and n + 1 == broken:
                out.write(b'{"custom_id": "cut-off", "response": {"body"\n')
                continue
            data = None if n == 7 else noise_png(side, seed=n)
            text = json.dumps(batch_line(n, data)).encode()
            out.write(text + (b"\r\n" if n == 3 else b"\n"))
            if n == 5:
                out.write(b"\n")
    return path


def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut files into shards of `SMALL_SHARD` bytes and record every shard."""
    import imgcall.shardlog
    import imgcall.shards

    monkeypatch.setattr(imgcall.shards, "SHARD_BYTES", SMALL_SHARD)
    monkeypatch.setattr(imgcall.shardlog, "RECORD_MIN_BYTES", 0)


def manifest_lines(folder: Path | str) -> list[dict[str, Any]]:
    """The manifest's records, with the output folder's own name taken out of paths."""
    text = Path(folder, "imgcall-manifest.jsonl").read_text(encoding="utf-8")
    return [_relative(json.loads(line), str(Path(folder).resolve())) for line in text.splitlines()]


def _relative(row: dict[str, Any], base: str) -> dict[str, Any]:
    if isinstance(row.get("path"), str):
        row["path"] = row["path"].replace(base, "OUT")
    return row


def files(folder: Path) -> dict[str, bytes]:
    """Every image file of an output folder (not hidden, not the manifest), by name."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".") and p.suffix != ".jsonl"
    }


def clash_inputs(folder: Path) -> list[str]:
    """Two inputs whose ids clash: the same id with other bytes, and with the same bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    red, blue = png((200, 0, 0)), png((0, 0, 200))
    first = folder / "a.json"
    second = folder / "b.json"
    first.write_text(json.dumps({"output": [_item("dup", red), _item("same", blue)]}))
    second.write_text(json.dumps({"output": [_item("dup", blue), _item("same", blue)]}))
    return [str(first), str(second)]


def _item(ident: str, data: bytes) -> dict[str, Any]:
    return {
        "type": "image_generation_call",
        "id": ident,
        "status": "completed",
        "result": b64(data),
    }
