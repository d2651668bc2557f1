"""imgcall.providers.stability: artifacts[] and the v2beta JSON body."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

import imgcall
from imgcall.errors import Problem

PROVIDERS = Path(__file__).resolve().parents[2] / "fixtures" / "providers"


def test_v1_artifacts_and_a_content_filtered_one_that_is_never_saved(tmp_path: Path) -> None:
    report = imgcall.save_images(PROVIDERS / "stability_v1.json", tmp_path)
    assert [(r.id, r.outcome, r.error_code) for r in report] == [
        ("stability_v1-0", "saved", None),
        ("stability_v1-1", "failed", "CONTENT_FILTERED"),
    ]
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".png"] == ["stability_v1-0.png"]
    blurred = json.loads((PROVIDERS / "stability_v1.json").read_text())["artifacts"][1]
    assert "blurred by the content filter" in str(report.records[1].error)
    assert base64.b64decode(blurred["base64"]) not in [p.read_bytes() for p in report.paths]


def test_v2beta_json_body() -> None:
    value = json.loads((PROVIDERS / "stability_v2.json").read_text())
    (image,) = imgcall.iter_images(PROVIDERS / "stability_v2.json")
    assert image.data == base64.b64decode(value["image"])
    assert image.context["seed"] == 343940597


@pytest.mark.parametrize("reason", ["ERROR", "CONTENT_FILTERED"])
def test_v2beta_failures_are_problems(reason: str) -> None:
    value = {**json.loads((PROVIDERS / "stability_v2.json").read_text()), "finish_reason": reason}
    (problem,) = imgcall.iter_images(value, errors="collect")
    assert isinstance(problem, Problem) and problem.code == reason
