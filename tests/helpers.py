"""Small builders shared by the saving, writing and CLI tests: real images, real items."""

from __future__ import annotations

import base64
import io
import random
from typing import Any

from PIL import Image


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
