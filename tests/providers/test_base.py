"""imgcall.providers._base: synthetic ids and the text of provider errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from imgcall.errors import (
    Problem,
)
from imgcall.models import ImageGenerationCall, Location
from imgcall.providers._base import base_id, describe_error
from imgcall.scan import scan

ENVELOPES = Path(__file__).resolve().parents[2] / "fixtures" / "envelopes"
# The 1x1 PNG of the OpenRouter OpenAPI spec.
PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def found(source: object, **kwargs: Any) -> list[ImageGenerationCall | Problem]:
    return list(scan(source, **kwargs))


def calls(source: object) -> list[ImageGenerationCall]:
    out = [f for f in found(source) if isinstance(f, ImageGenerationCall)]
    return out


def fixture(name: str) -> Path:
    return ENVELOPES / name


def load(name: str) -> Any:
    return json.loads(fixture(name).read_text())


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything tries to open a connection (URLs are never fetched)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("imgcall tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


# -- synthetic ids and error text ---------------------------------------------------------


def test_base_id_prefers_response_id_then_custom_id_then_time_then_input_name() -> None:
    where = Location("out/batch.jsonl", line=7)
    assert base_id({"response_id": "r", "custom_id": "c"}, where, 5) == "r"
    assert base_id({"custom_id": "c"}, where, 5) == "c"
    assert base_id({}, where, 5) == "img-5"
    assert base_id({}, where, True) == "batch-7"
    assert base_id({}, Location("out/body.json")) == "body"
    assert base_id({}, Location("<input>")) == "image"


def test_describe_error() -> None:
    assert describe_error({"message": "m", "code": "c"}) == "m (c)"
    assert describe_error({"message": "m", "type": "t"}) == "m (t)"
    assert describe_error({"code": "c"}) == "c"
    assert describe_error({"param": None}) == "{'param': None}"
    assert describe_error("plain") == "plain"
