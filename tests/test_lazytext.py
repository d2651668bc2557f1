"""LazyText: a long string left in its buffer, whole only on demand; materialized copies."""

from __future__ import annotations

import base64

from imgcall.lazytext import PROBE, LazyText, materialized


def test_a_lazy_text_is_its_first_characters_until_asked_for_all() -> None:
    text = base64.b64encode(bytes(range(256)) * 40).decode()
    lazy = LazyText(memoryview(text.encode()))
    assert lazy == text[:PROBE] and lazy.startswith(text[:10]) and lazy
    assert lazy.size == len(text) and bytes(lazy.raw) == text.encode()
    assert lazy.text() == text


def test_escapes_and_non_ascii_are_decoded_by_json_rules() -> None:
    assert LazyText(memoryview(b"ab\\/cd" * 20)).text() == "ab/cd" * 20  # PHP's \/
    assert LazyText(memoryview("caf\u00e9".encode() * 20)).text() == "caf\u00e9" * 20
    # An invalid escape is kept as it is: the base64 decoder then says where it is.
    assert LazyText(memoryview(b"AAAA\\qAAAA")).text() == "AAAA\\qAAAA"
    # A lone surrogate is not base64 anyway: it becomes U+FFFD.
    assert LazyText(memoryview(b"AAAA\\ud800AAAA")).text() == "AAAA\ufffdAAAA"


def test_materialized_copies_only_what_changed() -> None:
    lazy = LazyText(memoryview(b"QUJD" * 100))
    plain = {"n": [1, 2], "s": "x"}
    value = {"keep": plain, "items": [{"result": lazy}, "y"]}
    copy = materialized(value)
    assert copy == {"keep": plain, "items": [{"result": "QUJD" * 100}, "y"]}
    assert copy["keep"] is plain  # nothing lazy inside: not copied
    assert value["items"][0]["result"] is lazy  # the input is left as it was
    assert materialized(plain) is plain
