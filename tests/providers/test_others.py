"""imgcall.providers.others: Automatic1111 / Forge, fal, Replicate."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

import imgcall
from imgcall.errors import Problem, UnsupportedResultError

PROVIDERS = Path(__file__).resolve().parents[2] / "fixtures" / "providers"


def test_automatic1111_images_with_the_prompt_and_info() -> None:
    value = json.loads((PROVIDERS / "automatic1111.json").read_text())
    (image,) = imgcall.iter_images(PROVIDERS / "automatic1111.json")
    assert image.data == base64.b64decode(value["images"][0])
    assert image.context["revised_prompt"] == "a castle on a hill, oil painting"
    assert json.loads(image.context["info"])["sampler_name"] == "Euler a"


def test_fal_data_uri_images_keep_the_nsfw_flags() -> None:
    (image,) = imgcall.iter_images(PROVIDERS / "fal.json")
    assert (image.format, image.width, image.height) == ("PNG", 40, 30)
    assert image.context["has_nsfw_concepts"] == [False] and image.context["seed"] == 918273


def test_replicate_wrong_mime_type_the_bytes_win_with_a_warning() -> None:
    with pytest.warns(imgcall.ImgcallWarning, match="application/octet-stream"):
        (image,) = imgcall.iter_images(PROVIDERS / "replicate.json")
    assert image.format == "WEBP" and image.id == "gm3qorzdhgbfurvjtvhg6dckhu-0"


def test_replicate_url_outputs_are_problems_and_a_failure_names_the_error() -> None:
    value = json.loads((PROVIDERS / "replicate.json").read_text())
    urls = {**value, "output": ["https://replicate.delivery/xezq/out-0.webp"]}
    (problem,) = imgcall.iter_images(urls, errors="collect")
    assert isinstance(problem, Problem) and isinstance(problem.error, UnsupportedResultError)
    assert "replicate.delivery" in problem.reason
    failed = {**value, "output": None, "status": "failed", "error": "CUDA out of memory"}
    (problem,) = imgcall.iter_images(failed, errors="collect")
    assert isinstance(problem, Problem) and problem.code == "failed"
    assert "CUDA out of memory" in problem.reason
