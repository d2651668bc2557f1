"""What ``imgcall provenance`` does and prints, apart from click (see `imgcall.cli`).

Output goes through the two functions the command passes in, so this module, like
`imgcall._render`, never prints by itself.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ._render import printable
from .formats import has_c2pa, sniff
from .provenance import Provenance, read_provenance
from .writing import describe_os_error

__all__ = ["run"]

Echo = Callable[[str], object]
_MAX_BYTES = 256 * 1024 * 1024
_NO_EXTRA = (
    "note: only presence was checked; pip install 'imgcall[c2pa]' to read and validate "
    "the manifests (offline)"
)


def run(paths: Sequence[Path], as_json: bool, echo: Echo, echo_err: Echo) -> int:
    """Report the provenance of each image under ``paths``; return the exit code."""
    can_read = importlib.util.find_spec("c2pa") is not None
    code = 0
    rows: list[tuple[str, ...]] = []
    for path in _image_files(paths, echo_err):
        if path is None:
            code = 2
            continue
        try:
            found = _provenance(path, can_read)
        except OSError as exc:
            echo_err(f"error: {printable(str(path))}: {describe_os_error(exc)}")
            code = 2
            continue
        if found.state in ("Invalid", "unreadable"):
            code = max(code, 1)
        if as_json:
            echo(json.dumps({"path": str(path), **found.to_dict()}, ensure_ascii=False))
        else:
            rows.append(_row(path, found))
    if rows:
        echo(_table(rows))
    if not can_read:
        echo_err(_NO_EXTRA)
    return code


def _provenance(path: Path, can_read: bool) -> Provenance:
    with open(path, "rb") as fh:
        data = fh.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        raise OSError(f"the file is over {_MAX_BYTES:,} bytes")
    if can_read:
        return read_provenance(data)
    fmt = sniff(data)
    embedded = fmt is not None and has_c2pa(data, fmt)
    return Provenance(fmt, embedded, "not checked" if embedded else "none")


def _image_files(paths: Sequence[Path], echo_err: Echo) -> Iterator[Path | None]:
    """Each file given, and the images directly in each folder given; None for a miss."""
    for path in paths:
        if path.is_dir():
            try:
                entries = sorted(os.scandir(path), key=lambda e: e.name)
            except OSError as exc:
                echo_err(f"error: {printable(str(path))}: {describe_os_error(exc)}")
                yield None
                continue
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                    continue
                if _looks_like_image(Path(entry.path)):
                    yield Path(entry.path)
        elif path.exists():
            yield path
        else:
            echo_err(f"error: {printable(str(path))}: no such file or folder")
            yield None


def _looks_like_image(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return sniff(head) not in (None, "SVG")


def _row(path: Path, found: Provenance) -> tuple[str, ...]:
    state = found.state
    if found.remote_url:
        state = f"remote (not fetched: {found.remote_url})"
    elif found.state == "Valid" and any("untrusted" in f for f in found.failures):
        state = "Valid (signer not on a trust list)"
    return (
        printable(str(path)),
        "yes" if found.embedded else "no",
        printable(state),
        printable(found.claim_generator or "-"),
        printable(found.issuer or "-"),
        printable(found.signed_at or "-"),
    )


def _table(rows: list[tuple[str, ...]]) -> str:
    header = ("FILE", "C2PA", "STATE", "GENERATOR", "ISSUER", "SIGNED")
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)), row[-1]]).rstrip()
        for row in table
    )
