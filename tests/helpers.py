"""Small builders shared by the saving, writing and CLI tests: real images, real items."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PIL import Image

T = TypeVar("T")
HANG_BUDGET = 10.0
"""Seconds a call guarded by `finishes` may take (a hang, not slowness, fails it)."""


def b64(data: bytes) -> str:
    """Standard base64 text of ``data``."""
    return base64.b64encode(data).decode("ascii")


def png(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (8, 6)) -> bytes:
    """A small solid-colour PNG made with Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def noise_png(side: int = 200, seed: int = 0) -> bytes:
    """A PNG that does not compress: its size is about 3 x side x side bytes."""
    raw = random.Random(seed).randbytes(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), raw).save(buffer, format="PNG")
    return buffer.getvalue()


def item(id: str, data: bytes | None, status: str = "completed", **extra: Any) -> dict[str, Any]:
    """An image_generation_call item holding ``data`` as base64 (or a null result)."""
    body: dict[str, Any] = {"type": "image_generation_call", "id": id, "status": status}
    body.update(extra)
    body["result"] = b64(data) if data is not None else None
    return body


def finishes(call: Callable[[], T], unblock: Path | None = None) -> T:
    """``call()``, run on a thread so that a hang fails the test instead of the suite.

    ``unblock`` is a FIFO to open for writing if the call hangs, so that a reader stuck
    in ``open()`` returns and the thread ends.
    """
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(call())
        except BaseException as exc:  # handed to the test thread below
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_BUDGET)
    if thread.is_alive():
        if unblock is not None:
            with contextlib.suppress(OSError):
                os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))
            thread.join(HANG_BUDGET)
        pytest.fail(f"did not finish within {HANG_BUDGET} s")
    if errors:
        raise errors[0]
    return results[0]


def write_base64(out: Any, size: int) -> None:
    """Write ``size`` bytes (rounded down to 4 MiB) of valid base64 text to ``out``."""
    chunk = base64.b64encode(bytes(range(256)) * 12_288)  # 4 MiB of base64
    for _ in range(size // len(chunk)):
        out.write(chunk)
