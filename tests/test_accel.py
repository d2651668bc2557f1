"""imgcall._accel: the standard library first, the fast libraries once the work pays."""

from __future__ import annotations

import binascii
import hashlib
import subprocess
import sys
import zlib
from pathlib import Path

import pybase64
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imgcall import _accel
from imgcall._accel import WARM_UP, _Lazy, _strict_binascii
from imgcall.pipeline import HASH_BESIDE


def _outcome(decode: object, data: str | bytes) -> tuple[str, bytes | None]:
    try:
        return "ok", decode(data)  # type: ignore[operator]
    except (binascii.Error, ValueError):
        return "error", None


def _pybase64(data: str | bytes) -> bytes:
    return pybase64.b64decode(data, validate=True)


# Base64 text with the characters that tell strict decoders apart: padding in every
# place, whitespace, the URL-safe alphabet, a non-ASCII letter and NUL.
_NEAR_BASE64 = st.one_of(
    st.text(alphabet="AQgw+/09az=\n -_é\x00", max_size=24),
    st.builds(
        lambda raw, pad, cut: (pybase64.b64encode(raw).decode() + "=" * pad)[: len(raw) * 2 + cut],
        st.binary(max_size=16),
        st.integers(0, 5),
        st.integers(0, 12),
    ),
)


@given(_NEAR_BASE64)
def test_the_standard_library_decodes_exactly_what_pybase64_accepts(text: str) -> None:
    # The first bytes of a run go through binascii, the rest through pybase64: which one
    # read an image must never change whether it was accepted, or its bytes.
    assert _outcome(_strict_binascii, text) == _outcome(_pybase64, text)
    raw = text.encode("utf-8")
    assert _outcome(_strict_binascii, raw) == _outcome(_pybase64, raw)
    assert _outcome(_strict_binascii, memoryview(raw)) == _outcome(_pybase64, raw)


@pytest.mark.parametrize(
    "text", ["QUJD=", "QUJD====", "QUI===", "QQ==QUJD", "=QUJ", "QUJ", "QU JD", "QUJD\n"]
)
def test_binascii_is_held_to_pybase64s_strictness(text: str) -> None:
    # Strict mode alone accepts the first two (a stray '=' after a whole quad).
    with pytest.raises(binascii.Error):
        _strict_binascii(text)
    with pytest.raises(binascii.Error):
        pybase64.b64decode(text, validate=True)


def test_a_lazy_function_switches_once_the_warm_up_is_spent() -> None:
    loaded: list[str] = []

    def load() -> object:
        loaded.append("fast")
        return hashlib.sha256

    lazy = _Lazy(hashlib.sha1, load)
    assert lazy.pick(WARM_UP // 2) is hashlib.sha1
    assert lazy.pick(WARM_UP // 2 - 1) is hashlib.sha1
    assert not loaded
    assert lazy.pick(1) is hashlib.sha256  # the warm-up reached: the fast one
    assert lazy.pick(10) is hashlib.sha256 and loaded == ["fast"]  # loaded once


def test_a_piece_hashed_beside_its_write_gets_the_fast_library_at_once() -> None:
    # The helper thread hashes pieces of HASH_BESIDE bytes and more, beside the write:
    # only OpenSSL's hash lets the GIL go meanwhile.
    assert HASH_BESIDE >= WARM_UP
    lazy = _Lazy(zlib.adler32, lambda: zlib.crc32)
    assert lazy.pick(HASH_BESIDE) is zlib.crc32


@pytest.mark.parametrize("size", [0, 1, 1000, WARM_UP + 7])
def test_every_path_gives_the_standard_results(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"\x07" * (size % 256)
    assert _accel.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    assert _accel.crc32(data) == zlib.crc32(data)
    assert _accel.crc32(memoryview(data)[3:], 5) == zlib.crc32(data[3:], 5)
    text = pybase64.b64encode(data)
    assert _accel.b64decode(text) == data
    assert _accel.b64decode(text.decode("ascii")) == data
    digest = _accel.sha256()
    digest.update(data)
    assert digest.digest() == hashlib.sha256(data).digest()


_WHICH = (
    "import sys\n"
    "from imgcall import _accel\n"
    "data = bytes(range(256)) * {repeat}\n"
    "for _ in range(4):\n"
    "    _accel.sha256(data).hexdigest(); _accel.crc32(data)\n"
    "    _accel.b64decode(_accel.binascii.b2a_base64(data, newline=False))\n"
    "print(sorted(m for m in ('_hashlib', 'pybase64', 'zlib_ng') if m in sys.modules))\n"
)


@pytest.mark.parametrize(
    ("repeat", "expected"),
    [(8, "[]"), (WARM_UP // 256, "['_hashlib', 'pybase64', 'zlib_ng']")],
)
def test_the_fast_libraries_load_only_for_enough_work(
    tmp_path: Path, repeat: int, expected: str
) -> None:
    # 4 x 2 KiB is not worth loading them; 4 x 256 KiB is.
    done = subprocess.run(
        [sys.executable, "-c", _WHICH.format(repeat=repeat)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
