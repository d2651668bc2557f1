"""imgcall.providers: the registry decides which reader claims a value."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest

import imgcall.providers as providers
from imgcall.providers import READERS, Reader, Walker


def test_every_reader_of_every_provider_module_is_registered_once() -> None:
    defined = set()
    for info in pkgutil.iter_modules(providers.__path__):
        module = importlib.import_module(f"imgcall.providers.{info.name}")
        for _, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, Reader)
                and value is not Reader
                and value.__module__ == module.__name__
            ):
                defined.add(value)
    assert defined == set(READERS)
    assert len(READERS) == len(set(READERS))


@pytest.mark.parametrize(
    ("value", "reader"),
    [
        ({"type": "image_generation_call", "id": "x", "status": "completed"}, "Items"),
        ({"custom_id": "c", "response": {}}, "openai_batch.BatchLine"),
        ({"key": "k", "response": {}}, "google_batch.BatchLine"),
        ({"recordId": "r", "modelOutput": {}}, "bedrock.BatchRecord"),
        ({"request": {}, "response": {}}, "VertexPrediction"),
        ({"candidates": []}, "GenerateContent"),
        ({"images": ["aGk="], "parameters": {}}, "Automatic1111"),
        ({"images": ["aGk="]}, "bedrock.ImageBody"),
        ({"images": [{"url": "u"}]}, "Fal"),
        ({"artifacts": []}, "Artifacts"),
        ({"output": [], "status": "succeeded", "urls": {}}, "Replicate"),
        ({"object": "response", "output": []}, "Response"),
        ({"event_type": "content.delta", "index": 0}, "InteractionEvents"),
        ({"error": {"message": "m"}}, "ErrorBody"),
    ],
)
def test_which_reader_claims_what(value: dict[str, Any], reader: str) -> None:
    claimed = Walker().reader_for(value)
    assert claimed is not None
    name = f"{type(claimed).__module__.rsplit('.', 1)[-1]}.{type(claimed).__name__}"
    assert name.endswith(reader)


def test_nothing_claims_an_unknown_object() -> None:
    assert Walker().reader_for({"job": {"id": 1}}) is None


def test_only_batch_output_lines_are_marked_as_standing_alone() -> None:
    # imgcall.shards cuts a file into byte ranges only when its lines stand alone.
    marked = {f"{r.__module__.rsplit('.', 1)[-1]}.{r.__name__}" for r in READERS if r.batch}
    assert marked == {
        "openai_batch.BatchLine",
        "google_batch.BatchLine",
        "google_batch.VertexPrediction",
        "bedrock.BatchRecord",
    }
