"""Sidecars: which files count as imgcall's own (and so may be replaced)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from imgcall.sidecar import is_sidecar


def test_only_an_imgcall_record_counts_as_a_sidecar(tmp_path: Path) -> None:
    record = {
        "id": "a",
        "status": "completed",
        "outcome": "saved",
        "path": "x",
        "sha256": "0",
        "bytes": 1,
    }
    (tmp_path / "ok.json").write_text(json.dumps(record))
    (tmp_path / "payload.json").write_text(json.dumps({"id": "a", "result": "..."}))
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "huge.json").write_text(json.dumps({**record, "pad": "x" * 2_000_000}))
    (tmp_path / "link.json").symlink_to(tmp_path / "ok.json")
    os.mkfifo(tmp_path / "fifo.json")
    assert is_sidecar(tmp_path / "ok.json")
    for name in ("payload", "list", "broken", "huge", "link", "fifo", "missing"):
        assert not is_sidecar(tmp_path / f"{name}.json"), name
