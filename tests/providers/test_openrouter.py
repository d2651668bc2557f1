"""imgcall.providers.openrouter: the openrouter:image_generation server tool."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

import imgcall
from imgcall.errors import (
    ImageGenerationFailedError,
    Problem,
    UnsupportedResultError,
)
from imgcall.items import Item
from imgcall.models import ImageGenerationCall, Location
from imgcall.providers import openrouter
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


# -- OpenRouter server tool ----------------------------------------------------------------


def test_server_tool_items_become_completed_calls_with_stable_ids() -> None:
    path = fixture("server_tool_b64.json")
    first, second = calls(path)
    assert (first.id, first.status, first.location) == (
        "ig_tmp_abc123",
        "completed",
        Location(str(path), "/output/0/imageB64"),
    )
    assert first.context["revised_prompt"] == "A lighthouse at dusk."
    assert first.context["response_id"] == "resp_or_tool"
    # No id of its own: <response id>-img<output index>, the same on every run.
    assert second.id == "resp_or_tool-img1"
    assert [c.id for c in calls(path)] == ["ig_tmp_abc123", "resp_or_tool-img1"]
    assert imgcall.decode(first).format == "PNG" and imgcall.decode(second).format == "WEBP"


@pytest.mark.usefixtures("no_network")
def test_server_tool_url_is_a_problem_and_never_fetched() -> None:
    path = fixture("server_tool_url.json")
    (problem,) = found(path)
    assert isinstance(problem, Problem) and isinstance(problem.error, UnsupportedResultError)
    assert problem.id == "ig_tmp_url" and problem.location == Location(
        str(path), "/output/0/result"
    )
    assert "https://example.com/image.png" in str(problem.error)
    assert "never fetches" in str(problem.error)
    with pytest.raises(UnsupportedResultError):
        list(imgcall.iter_calls(path))


def test_server_tool_prefers_inline_data_over_a_url() -> None:
    value = {
        "type": "openrouter:image_generation",
        "result": "https://example.com/x.png",
        "imageB64": PNG_1X1,
        "status": "completed",
    }
    call = openrouter.server_tool(value, Location("in"), {"response_id": "r"}, 3)
    assert isinstance(call, Item)
    assert (call.id, call.result) == ("r-img3", PNG_1X1)


def test_server_tool_without_data_keeps_its_status_or_fails_with_its_error() -> None:
    pending = openrouter.server_tool(
        {"type": "openrouter:image_generation", "id": "t1", "status": "in_progress"},
        Location("in"),
        {},
        0,
    )
    assert isinstance(pending, Item)
    assert (pending.status, pending.result) == ("in_progress", None)
    with pytest.raises(imgcall.ImageNotReadyError):
        imgcall.decode(pending.to_call())
    failed = openrouter.server_tool(
        {"type": "openrouter:image_generation", "id": "t2", "status": "error", "error": "quota"},
        Location("in"),
        {},
        0,
    )
    assert isinstance(failed, Item) and failed.status == "failed"
    with pytest.raises(ImageGenerationFailedError, match="quota"):
        imgcall.decode(failed.to_call())
