"""SHA-256, strict base64 and CRC-32, from the fast C libraries once the work pays for them.

OpenSSL's SHA-256 (through `hashlib`), pybase64 and zlib-ng are 7-30x faster than the
standard library's own modules, but loading them costs more than a small run's work:
~18 M instructions (OpenSSL's libcrypto alone 11.5 M; callgrind) and 10-16 ms of a
~100 ms ``imgcall extract tiny.json`` (issue 15). So each function here does its first
`WARM_UP` bytes with the standard library's built-in module, and loads the fast library,
once and for the rest of the process, when the bytes done so far (or one piece alone)
reach that.
A run of one small image never loads them; a run of many pays for them within a few
images. The results are the same either way: tests compare both on the same input.
"""

from __future__ import annotations

import binascii
import zlib
from collections.abc import Callable
from typing import Any, Protocol, cast

__all__ = ["WARM_UP", "Hash", "b64decode", "crc32", "sha256"]

WARM_UP = 256 * 1024
"""Bytes of each kind of work done with the standard library before the fast one loads.

About where the two cost the same: the slow path costs ~4 us more per KiB of SHA-256
(~3 us of base64), and the fast library's load ~1-4 ms."""


class Hash(Protocol):
    """What `sha256` returns: ``hashlib``'s hash objects and the built-in module's alike."""

    def update(self, data: bytes | memoryview, /) -> None: ...
    def digest(self) -> bytes: ...
    def hexdigest(self) -> str: ...


class _Lazy:
    """One function: the standard library's until `WARM_UP` bytes, then the fast one."""

    __slots__ = ("_done", "_fast", "_load", "_slow")

    def __init__(self, slow: Callable[..., Any], load: Callable[[], Callable[..., Any]]) -> None:
        self._slow = slow
        self._load = load
        self._fast: Callable[..., Any] | None = None
        self._done = 0

    def pick(self, size: int) -> Callable[..., Any]:
        """The function to use for ``size`` more bytes."""
        if self._fast is not None:
            return self._fast
        # Racing threads may both count or both load: the count is only a heuristic,
        # and importing twice returns the same module.
        self._done += size
        # Below, not up to: a piece of HASH_BESIDE bytes (= WARM_UP), hashed on the helper
        # thread, must get OpenSSL's hash, which releases the GIL.
        if self._done < WARM_UP:
            return self._slow
        self._fast = self._load()
        return self._fast


def _openssl_sha256() -> Callable[..., Any]:
    import hashlib

    return hashlib.sha256


def _builtin_sha256() -> Callable[..., Any] | None:
    # CPython's own SHA-256 module (what hashlib falls back to without OpenSSL):
    # _sha256 up to Python 3.11, _sha2 from 3.12.
    try:
        from _sha256 import sha256 as builtin  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        try:
            from _sha2 import sha256 as builtin  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            return None
    return builtin  # type: ignore[no-any-return,unused-ignore]


def _pybase64() -> Callable[..., Any]:
    import pybase64

    return pybase64.b64decode


def _strict_binascii(data: Any, validate: bool = True) -> bytes:
    # binascii's strict mode alone lets through what pybase64 refuses: a length that
    # is not a multiple of 4 ("QUJD=") and a whole quad of padding ("QUJD====").
    if len(data) % 4:
        raise binascii.Error("the length of base64 data must be a multiple of 4")
    tail = data[-3:]
    if (tail if isinstance(tail, str) else bytes(tail)) in ("===", b"==="):
        raise binascii.Error("excess padding")
    return binascii.a2b_base64(data, strict_mode=True)


def _zlib_ng() -> Callable[..., Any]:
    try:
        # zlib-ng computes CRC-32 with SIMD, ~18x the standard zlib here: checking a
        # PNG's chunk CRCs was the largest step of saving an image (bench/README.md,
        # change 16).
        from zlib_ng.zlib_ng import crc32 as fast
    except ImportError:  # installed without its dependencies: the same CRC, slower
        return zlib.crc32
    return fast


_sha = _Lazy(_builtin_sha256() or _openssl_sha256(), _openssl_sha256)
_b64 = _Lazy(_strict_binascii, _pybase64)
_crc = _Lazy(zlib.crc32, _zlib_ng)


def sha256(data: bytes | memoryview = b"") -> Hash:
    """A SHA-256 hash object (``hashlib``'s interface) started with ``data``.

    The object is the fast library's if ``data`` is large or much has been hashed.
    """
    return cast(Hash, _sha.pick(len(data))(data))


def b64decode(data: str | bytes | memoryview) -> bytes:
    """Decode standard-alphabet base64 strictly; ``binascii.Error`` if it is not that.

    Strict as ``pybase64.b64decode(data, validate=True)``: any character outside the
    alphabet (whitespace included), and any missing, inner or excess padding, is an error.
    ``ValueError`` for text that is not ASCII.
    """
    return _b64.pick(len(data))(data, validate=True)  # type: ignore[no-any-return]


def crc32(data: bytes | memoryview, value: int = 0) -> int:
    """CRC-32 of ``data``, continuing from ``value`` (as ``zlib.crc32``)."""
    return _crc.pick(len(data))(data, value)  # type: ignore[no-any-return]
