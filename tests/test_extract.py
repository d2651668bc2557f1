"""iter_images: decode as it scans, with the raise / skip / collect policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import imgcall
from imgcall import DecodedImage, ImgcallWarning, Problem, iter_images

from .conftest import ITEMS_DIR


def mixed_response(load_item: Any) -> dict[str, Any]:
    """A response whose output holds a good image, a failed one and a bad base64 one."""
    return {
        "id": "resp_mixed",
        "object": "response",
        "output": [
            load_item("png"),
            load_item("status_failed"),
            load_item("bad_base64"),
            load_item("webp"),
        ],
    }


def test_response_fixture_yields_its_images_in_order() -> None:
    with pytest.warns(ImgcallWarning, match="ig_68a2"):
        images = list(iter_images(ITEMS_DIR / "response.json"))
    assert [(i.id, i.format) for i in images] == [("ig_68a1", "PNG"), ("ig_68a2", "JPEG")]
    assert str(images[0].location) == f"{ITEMS_DIR / 'response.json'}#/output/1"
    assert images[0].context["response_id"] == "resp_68a1"
    assert images[0].context["revised_prompt"].startswith("A gray tabby cat")


def test_raise_stops_at_the_first_bad_item(load_item: Any) -> None:
    found = []
    with pytest.raises(imgcall.ImageGenerationFailedError) as info:
        for image in iter_images(mixed_response(load_item)):
            found.append(image.id)
    assert found == ["ig_png"]
    assert info.value.id == "ig_failed"
    assert str(info.value.location) == "<object>#/output/1"


def test_skip_drops_bad_items(load_item: Any) -> None:
    ids = [i.id for i in iter_images(mixed_response(load_item), errors="skip")]
    assert ids == ["ig_png", "ig_webp"]


def test_collect_yields_problems_in_place(load_item: Any) -> None:
    found = list(iter_images(mixed_response(load_item), errors="collect"))
    kinds = [(type(f).__name__, f.id) for f in found]
    assert kinds == [
        ("DecodedImage", "ig_png"),
        ("Problem", "ig_failed"),
        ("Problem", "ig_bad_b64"),
        ("DecodedImage", "ig_webp"),
    ]
    failed, bad = found[1], found[2]
    assert isinstance(failed, Problem) and isinstance(bad, Problem)
    assert isinstance(failed.error, imgcall.ImageGenerationFailedError)
    assert failed.status == "failed"
    assert isinstance(bad.error, imgcall.InvalidBase64Error)
    assert bad.context["response_id"] == "resp_mixed"


def test_a_list_of_items_and_a_single_item(load_item: Any) -> None:
    assert [i.id for i in iter_images(ITEMS_DIR / "items_list.json")] == ["ig_list_1", "ig_list_2"]
    assert [i.id for i in iter_images(load_item("jpeg"))] == ["ig_jpeg"]


@pytest.mark.parametrize("form", ["path", "str_path", "text", "bytes", "binary_file", "text_file"])
def test_every_source_form(form: str, tmp_path: Path) -> None:
    path = ITEMS_DIR / "items_list.json"
    sources: dict[str, Any] = {
        "path": path,
        "str_path": str(path),
        "text": path.read_text(),
        "bytes": path.read_bytes(),
    }
    if form in sources:
        images = list(iter_images(sources[form]))
    else:
        with open(path, "rb" if form == "binary_file" else "r") as fh:
            images = list(iter_images(fh))
    assert [i.id for i in images] == ["ig_list_1", "ig_list_2"]
    assert all(isinstance(i, DecodedImage) for i in images)


def test_options_are_passed_to_decode(load_item: Any) -> None:
    with pytest.raises(imgcall.ImageTooLargeError):
        list(iter_images(load_item("png"), limits=imgcall.Limits(max_pixels=10)))
    with pytest.raises(imgcall.ImageNotReadyError):
        list(iter_images(load_item("status_generating"), strict_status=True))
    assert next(iter_images(load_item("truncated_png"), check="none")).id == "ig_truncated"


def test_broken_json_is_an_invalid_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"output": [\n  {"type": "image_generation_call",,}]}')
    with pytest.raises(imgcall.InvalidInputError) as info:
        list(iter_images(path, errors="collect"))
    assert str(path) in str(info.value)
    assert "line 2" in str(info.value)


def test_missing_file_is_an_invalid_input_error(tmp_path: Path) -> None:
    with pytest.raises(imgcall.InvalidInputError, match="cannot read"):
        list(iter_images(tmp_path / "nope.json"))


def test_bad_errors_value_is_rejected() -> None:
    with pytest.raises(ValueError, match="errors must be one of"):
        iter_images({}, errors="ignore")  # type: ignore[call-overload]


def test_iter_calls_reports_invalid_items_by_policy() -> None:
    doc = {
        "output": [
            {"type": "image_generation_call", "status": "completed"},
            json.loads((ITEMS_DIR / "png.json").read_text()),
        ]
    }
    with pytest.raises(imgcall.InvalidItemError, match="field 'id'"):
        list(imgcall.iter_calls(doc))
    assert [c.id for c in imgcall.iter_calls(doc, errors="skip")] == ["ig_png"]
