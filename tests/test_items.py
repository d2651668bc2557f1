"""imgcall.items: the light item the scanners make, read exactly as the model reads it."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

import imgcall
from imgcall.errors import InvalidItemError
from imgcall.items import ImageGenerationStatus, Item, Location, read_item
from imgcall.jsonparse import parse_json
from imgcall.lazytext import LazyText
from imgcall.models import ImageGenerationCall, parse_call
from tests.conftest import ITEMS_DIR

from .helpers import b64, item, noise_png, png


def outcome(value: Any, read: Any) -> tuple[str, Any]:
    """What reading ``value`` gives: the item's fields, or the error's message."""
    try:
        found = read(value)
    except InvalidItemError as exc:
        return "error", (str(exc), exc.id)
    extra = found.extra if isinstance(found, Item) else found.model_extra
    return "item", (found.id, found.status, type(found.status), found.result, dict(extra))


def as_item(value: Any) -> Item:
    return read_item(value)


def as_model(value: Any) -> ImageGenerationCall:
    return parse_call(value)


@pytest.mark.parametrize("path", sorted(ITEMS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_fixture_item_reads_as_the_model_reads_it(path: Path) -> None:
    value = json.loads(path.read_text())
    for one in value if isinstance(value, list) else [value]:
        if isinstance(one, dict) and one.get("type") == "image_generation_call":
            assert outcome(one, as_item) == outcome(one, as_model)


def test_known_status_is_the_enum_and_others_are_kept() -> None:
    known = read_item(item("a", png(), "generating"))
    assert known.status is ImageGenerationStatus.GENERATING
    other = read_item(item("b", png(), "queued_somewhere"))
    assert other.status == "queued_somewhere" and type(other.status) is str


@pytest.mark.parametrize(
    "changes",
    [
        {"id": b"bytes-id"},  # the model's lax rules turn bytes into text
        {"status": b"completed"},
        {"result": bytearray(b"iVBORw0KGgo=")},
        {"id": 7},
        {"status": None},
        {"result": ["not", "text"]},
        {1: "a non-string key"},
        {"id": None},
    ],
    ids=repr,
)
def test_anything_unusual_is_read_by_the_model(changes: dict[Any, Any]) -> None:
    value: dict[Any, Any] = item("x", png())
    value.update(changes)
    assert outcome(value, as_item) == outcome(value, as_model)


def test_missing_fields_are_reported_as_the_model_reports_them() -> None:
    for missing in ("id", "status"):
        value = item("x", png())
        del value[missing]
        kind, (message, _) = outcome(value, as_item)
        assert kind == "error" and f"field {missing!r}: Field required" in message
        assert outcome(value, as_item) == outcome(value, as_model)


def test_random_items_read_the_same_both_ways() -> None:
    rng = random.Random(6)
    values: list[object] = ["s", "", "completed", "failed", None, 0, 1.5, True, b"b", [], {}]
    for _ in range(2000):
        value: dict[Any, Any] = {"type": "image_generation_call"}
        for key in ("id", "status", "result", "size", "_private", "model_config"):
            if rng.random() < 0.8:
                value[key] = rng.choice(values)
        assert outcome(value, as_item) == outcome(value, as_model), value


def test_to_call_gives_the_model_with_the_same_origin_and_a_true_round_trip() -> None:
    value = item("ig_1", png(), revised_prompt="a red square", size="8x6")
    found = read_item(value).with_origin(
        Location("in.json", "/output/0"), {"response_id": "resp_1"}, partial_index=2
    )
    call = found.to_call()
    assert isinstance(call, ImageGenerationCall)
    assert call.model_dump(mode="json", exclude_unset=True) == value
    assert (call.location, call.context, call.partial_index) == (
        Location("in.json", "/output/0"),
        {"response_id": "resp_1"},
        2,
    )
    assert found.partial and call.partial


def test_from_call_keeps_the_model_and_its_origin() -> None:
    call = parse_call(item("ig_2", png(), quality="high")).with_origin(Location("x"), {"k": 1})
    found = Item.from_call(call)
    assert (found.id, found.extra, found.location, found.context) == (
        "ig_2",
        {"quality": "high"},
        Location("x"),
        {"k": 1},
    )
    assert found.to_call() is call


def test_a_long_result_stays_in_the_buffer_and_extras_are_real_text() -> None:
    image = noise_png(120)
    prompt = b64(noise_png(80, seed=1))  # a long base64-looking extra field
    text = json.dumps({"output": [item("ig_3", image, revised_prompt=prompt)]}).encode()
    value = parse_json(text + b" " * 300_000)  # large enough for the lazy path
    found = read_item(value["output"][0])
    assert isinstance(found.result, LazyText)
    # An extra field ends up in the manifest: it must be the whole text, not a preview.
    assert type(found.extra["revised_prompt"]) is str
    assert found.extra["revised_prompt"] == prompt
    assert found.to_call().result == b64(image)
    assert imgcall.decode(found.to_call()).data == image


def test_repr_shows_the_length_never_the_base64() -> None:
    found = read_item(item("ig_4", png()))
    assert found.result is not None and found.result not in repr(found)
    assert repr(found) == f"Item(id='ig_4', status='completed', result=<{len(found.result)} chars>)"
