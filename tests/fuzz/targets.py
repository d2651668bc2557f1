"""Fuzz targets: each takes arbitrary bytes and may raise only what imgcall promises.

A target turns the bytes into one kind of input (JSON text for `parse_call`, image bytes
for `decode`, a whole payload for `iter_images` and `show`, ...) and runs the public
call on it. Any `ImgcallError` is a fine answer; anything else escaping (a bare
``ValueError``, ``MemoryError``, ``RecursionError``, a Pillow or pydantic error) is a bug,
and so is a hang or unbounded memory, which the runner catches with its time and memory
limits. Targets are plain functions so that atheris, hypothesis and the seed replay in
the test suite all drive the same code.
"""

from __future__ import annotations

import base64
import contextlib
import json
import warnings
from collections.abc import Callable

import imgcall
from imgcall.errors import ImgcallError, Problem

Target = Callable[[bytes], None]

# Small limits keep each input cheap, so a fuzzer tries many; the mechanisms are the same.
LIMITS = imgcall.Limits(max_bytes=4 * 1024 * 1024, max_pixels=4_000_000)


def parse_call(data: bytes) -> None:
    """`imgcall.parse_call` on the bytes as JSON text."""
    try:
        call = imgcall.parse_call(data)
    except imgcall.InvalidItemError:
        return
    repr(call)
    call.model_dump(mode="json", exclude_unset=True)


def decode(data: bytes) -> None:
    """`imgcall.decode` of an item whose result is the bytes, at every check level."""
    item = {"type": "image_generation_call", "id": "fz", "status": "completed"}
    item["result"] = base64.b64encode(data).decode("ascii")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", imgcall.ImgcallWarning)
        for check in ("none", "fast", "full"):
            try:
                image = imgcall.decode(item, limits=LIMITS, check=check)  # type: ignore[arg-type]
            except ImgcallError:
                continue
            repr(image)


def decode_text(data: bytes) -> None:
    """`imgcall.decode` of an item whose result is the bytes as text (base64 / data: URL)."""
    text = data.decode("utf-8", "replace")
    item = {"type": "image_generation_call", "id": "fz", "status": "completed", "result": text}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", imgcall.ImgcallWarning)
        with contextlib.suppress(ImgcallError):
            imgcall.decode(item, limits=LIMITS)


def iter_images(data: bytes) -> None:
    """`imgcall.iter_images` over the bytes as a whole payload: only images and problems."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", imgcall.ImgcallWarning)
        try:
            for found in imgcall.iter_images(data, errors="collect", limits=LIMITS, partials=True):
                assert isinstance(found, (imgcall.DecodedImage, Problem)), type(found)
                str(found.error) if isinstance(found, Problem) else repr(found)
        except imgcall.InvalidInputError:
            return


def envelope(data: bytes) -> None:
    """The bytes as a payload inside real envelopes: a JSON value, a JSON Lines line, SSE."""
    text = data.decode("utf-8", "replace")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = text
    for payload in (
        json.dumps({"object": "response", "id": "r", "output": [value]}),
        json.dumps({"custom_id": "c", "response": {"status_code": 200, "body": value}}) + "\n",
        "data: " + json.dumps({"candidates": [{"content": {"parts": [value]}}]}) + "\n\n",
    ):
        iter_images(payload.encode("utf-8", "surrogatepass"))


def to_pil_and_display(data: bytes) -> None:
    """`DecodedImage.to_pil` and the notebook display of the bytes as an image."""
    item = {"type": "image_generation_call", "id": "fz", "status": "completed"}
    item["result"] = base64.b64encode(data).decode("ascii")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", imgcall.ImgcallWarning)
        try:
            image = imgcall.decode(item, limits=LIMITS, check="none")
        except ImgcallError:
            return
        with contextlib.suppress(ImgcallError):
            image.to_pil()
        bundle, _ = image._repr_mimebundle_()
        assert "text/plain" in bundle


def show(data: bytes) -> None:
    """`imgcall.show` over the bytes as a payload: its HTML is always made."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", imgcall.ImgcallWarning)
        try:
            gallery = imgcall.show(data)
        except imgcall.InvalidInputError:
            return
        html = gallery._repr_html_()
        assert isinstance(html, str)
        repr(gallery)


TARGETS: dict[str, Target] = {
    "parse_call": parse_call,
    "decode": decode,
    "decode_text": decode_text,
    "iter_images": iter_images,
    "envelope": envelope,
    "to_pil_and_display": to_pil_and_display,
    "show": show,
}
"""Every target by name."""
