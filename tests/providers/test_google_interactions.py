"""imgcall.providers.google_interactions: the Interactions API, whole and streamed."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import imgcall
from imgcall.errors import ImageGenerationFailedError, Problem

PROVIDERS = Path(__file__).resolve().parents[2] / "fixtures" / "providers"


def collect(source: object, **kwargs: Any) -> list[imgcall.DecodedImage | Problem]:
    return list(imgcall.iter_images(source, errors="collect", **kwargs))


def load(name: str) -> Any:
    return json.loads((PROVIDERS / name).read_text())


def test_an_interactions_image_output_with_its_id_and_model() -> None:
    value = load("gemini_interaction.json")
    (image,) = collect(PROVIDERS / "gemini_interaction.json")
    assert isinstance(image, imgcall.DecodedImage)
    assert image.data == base64.b64decode(value["outputs"][1]["data"])
    assert image.id == f"{value['id']}-1"
    assert image.context["model"] == "gemini-3-pro-image-preview"


def test_the_stream_yields_the_image_delta_once_and_names_it_after_the_interaction() -> None:
    found = collect(PROVIDERS / "gemini_interaction_stream.sse")
    (image,) = found
    assert isinstance(image, imgcall.DecodedImage) and image.width == 42
    assert image.id == "v1_ChdpbnRlcmFjdGlvbi1zdHJlYW0tNDI-1"
    assert str(image.location).endswith("#/delta/data")


def test_a_final_interaction_repeating_the_streamed_image_gives_it_once() -> None:
    lines = (PROVIDERS / "gemini_interaction_stream.sse").read_text().split("\n\n")
    events = [json.loads(block.split("data: ", 1)[1]) for block in lines if "data: " in block]
    delta = events[5]["delta"]
    events[-1]["interaction"]["outputs"] = [{"type": "text", "text": "x"}, delta]
    assert [x.id for x in collect(events)] == ["v1_ChdpbnRlcmFjdGlvbi1zdHJlYW0tNDI-1"]


def test_images_in_a_thought_summary_are_partials() -> None:
    value = load("gemini_interaction.json")
    image = value["outputs"][1]
    value["outputs"].insert(0, {"type": "thought", "signature": "c2ln", "summary": [image]})
    found = collect(value, partials=True)
    assert [(x.id, x.partial) for x in found] == [  # type: ignore[union-attr]
        (f"{value['id']}-0", True),
        (f"{value['id']}-2", False),
    ]
    assert [x.partial for x in collect(value)] == [False]  # type: ignore[union-attr]


def test_a_failed_interaction_without_images_is_a_problem() -> None:
    value = {**load("gemini_interaction.json"), "status": "failed", "outputs": []}
    (problem,) = collect(value)
    assert isinstance(problem, Problem) and isinstance(problem.error, ImageGenerationFailedError)
    assert "ended failed" in problem.reason
