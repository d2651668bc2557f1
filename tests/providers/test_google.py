"""imgcall.providers.google: Gemini / Vertex responses and streams, Imagen."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import imgcall
from imgcall.errors import (
    CorruptImageError,
    EmptyResultError,
    ImageGenerationFailedError,
    InvalidBase64Error,
    Problem,
    UnsupportedResultError,
)

PROVIDERS = Path(__file__).resolve().parents[2] / "fixtures" / "providers"


def collect(source: object, **kwargs: Any) -> list[imgcall.DecodedImage | Problem]:
    return list(imgcall.iter_images(source, errors="collect", **kwargs))


def images(source: object, **kwargs: Any) -> list[imgcall.DecodedImage]:
    return [x for x in collect(source, **kwargs) if isinstance(x, imgcall.DecodedImage)]


def problems(source: object, **kwargs: Any) -> list[Problem]:
    return [x for x in collect(source, **kwargs) if isinstance(x, Problem)]


def load(name: str) -> Any:
    return json.loads((PROVIDERS / name).read_text())


def part_bytes(value: Any, candidate: int, part: int, key: str = "inlineData") -> bytes:
    text = value["candidates"][candidate]["content"]["parts"][part][key]["data"]
    return base64.b64decode(text.replace("-", "+").replace("_", "/") + "==")


# -- generateContent ---------------------------------------------------------------------


def test_gemini_response_gives_its_final_image_with_ids_context_and_declared_type() -> None:
    response = load("gemini_response.json")
    (image,) = collect(PROVIDERS / "gemini_response.json")
    assert isinstance(image, imgcall.DecodedImage)
    assert image.data == part_bytes(response, 0, 2)
    assert (image.id, image.format, image.width, image.height) == (
        "Zk9aaJ7xN8mP1MkPlo2JkAU-0-0",
        "PNG",
        48,
        36,
    )
    assert image.context["response_id"] == "Zk9aaJ7xN8mP1MkPlo2JkAU"
    assert image.context["model"] == "gemini-3-pro-image-preview"
    assert image.context["text"] == "Here is a red fox curled up asleep in the snow."
    assert image.warnings == ()
    assert str(image.location).endswith("#/candidates/0/content/parts/2/inlineData/data")


def test_thought_images_are_partials_of_the_final_image_and_off_by_default() -> None:
    response = load("gemini_response.json")
    thought, final = images(PROVIDERS / "gemini_response.json", partials=True)
    assert thought.partial and thought.partial_index == 0
    assert thought.id == final.id and not final.partial
    assert thought.data == part_bytes(response, 0, 1)
    assert (thought.width, thought.height) == (12, 9)
    assert [i.partial for i in images(PROVIDERS / "gemini_response.json")] == [False]


def test_the_thought_signature_is_never_read_as_an_image() -> None:
    # 6 kB of base64 beside the image part: neither an image nor a problem.
    found = collect(PROVIDERS / "gemini_response.json")
    assert len(found) == 1 and isinstance(found[0], imgcall.DecodedImage)


def test_sdk_dump_with_snake_case_keys_and_the_url_safe_alphabet() -> None:
    dump = load("gemini_sdk_dump.json")
    text = dump["candidates"][0]["content"]["parts"][1]["inline_data"]["data"]
    assert "-" in text or "_" in text  # really the URL-safe alphabet
    (image,) = images(PROVIDERS / "gemini_sdk_dump.json")
    assert image.data == base64.urlsafe_b64decode(text)
    assert image.id == "b2FaaKXsLYO_1MkP5fW4wQ4-0-0"
    assert image.context["model"] == "gemini-2.5-flash-image"
    assert Image.open(io.BytesIO(image.data)).size == (image.width, image.height)


def test_blocked_prompt_is_a_problem_with_the_block_reason_as_its_code() -> None:
    (problem,) = collect(PROVIDERS / "gemini_blocked_prompt.json")
    assert isinstance(problem, Problem)
    assert isinstance(problem.error, ImageGenerationFailedError)
    assert problem.code == "PROHIBITED_CONTENT"
    assert "the prompt was blocked (PROHIBITED_CONTENT)" in problem.reason
    assert problem.id == "blk0aJ7xN8mP1MkPlo2JkAU"


def test_image_safety_is_a_problem_with_the_finish_reason_and_message() -> None:
    (problem,) = collect(PROVIDERS / "gemini_image_safety.json")
    assert isinstance(problem, Problem) and problem.code == "IMAGE_SAFETY"
    assert "finished with IMAGE_SAFETY" in problem.reason
    assert "Prohibited Use policy" in problem.reason
    assert problem.status == "failed"


def test_text_only_reply_is_a_problem_quoting_what_the_model_said() -> None:
    (problem,) = collect(PROVIDERS / "gemini_text_only.json")
    assert isinstance(problem, Problem) and isinstance(problem.error, EmptyResultError)
    assert "without an image" in problem.reason and "real people" in problem.reason
    assert problem.code is None


def test_malformed_parts_are_problems_each_and_a_wrong_mime_type_is_a_warning() -> None:
    with pytest.warns(imgcall.ImgcallWarning, match="declared PNG but the bytes are JPEG"):
        empty, wrong_mime, truncated = collect(PROVIDERS / "gemini_malformed.json")
    assert isinstance(empty, Problem) and isinstance(empty.error, EmptyResultError)
    assert isinstance(wrong_mime, imgcall.DecodedImage) and wrong_mime.format == "JPEG"
    assert any("declared PNG but the bytes are JPEG" in w for w in wrong_mime.warnings)
    assert isinstance(truncated, Problem)
    assert isinstance(truncated.error, (CorruptImageError, InvalidBase64Error))
    assert truncated.id == "bad0aJ7xN8mP1MkPlo2JkAU-0-2"


def test_file_data_is_a_problem_saying_where_the_image_is() -> None:
    value = {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"fileData": {"mimeType": "image/png", "fileUri": "gs://bucket/out/a.png"}}
                    ]
                },
                "finishReason": "STOP",
            }
        ],
        "responseId": "r1",
    }
    (problem,) = collect(value)
    assert isinstance(problem, Problem) and isinstance(problem.error, UnsupportedResultError)
    assert "gs://bucket/out/a.png" in problem.reason


def test_non_image_inline_data_is_passed_over() -> None:
    audio = base64.b64encode(b"RIFF\x00\x00\x00\x00WAVE" + bytes(100)).decode()
    value = {
        "candidates": [
            {
                "content": {"parts": [{"inlineData": {"mimeType": "audio/wav", "data": audio}}]},
                "finishReason": "MAX_TOKENS",
            }
        ]
    }
    (problem,) = collect(value)  # the candidate ended without an image: that is all
    assert isinstance(problem, Problem) and problem.code == "MAX_TOKENS"


# -- streams -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gemini_stream.sse", "gemini_stream_array.json"])
def test_stream_chunks_number_their_images_across_chunks(name: str) -> None:
    found = collect(PROVIDERS / name)
    assert all(isinstance(x, imgcall.DecodedImage) for x in found)
    assert [(x.id, x.width) for x in found] == [  # type: ignore[union-attr]
        ("strm0aJ7xN8mP1MkPlo2JkAU-0-0", 20),
        ("strm0aJ7xN8mP1MkPlo2JkAU-0-1", 24),
    ]


def test_a_stream_whose_image_came_before_the_finish_chunk_is_not_a_problem(tmp_path: Path) -> None:
    chunks = load("gemini_stream_array.json")
    # The finish chunk alone carries no image; the stream as a whole did.
    chunks[2]["candidates"][0]["content"]["parts"] = [{"text": "."}]
    assert [type(x).__name__ for x in collect(chunks)] == ["DecodedImage"]


def test_a_stream_that_finishes_without_any_image_is_one_problem() -> None:
    chunks = load("gemini_stream_array.json")
    for chunk in chunks:
        chunk["candidates"][0]["content"]["parts"] = [{"text": "no"}]
    (problem,) = collect(chunks)
    assert isinstance(problem, Problem) and "without an image" in problem.reason


# -- Imagen ------------------------------------------------------------------------------


def test_imagen_predictions_and_a_filtered_one() -> None:
    value = load("imagen_predict.json")
    image, problem = collect(PROVIDERS / "imagen_predict.json")
    assert isinstance(image, imgcall.DecodedImage)
    assert image.data == base64.b64decode(value["predictions"][0]["bytesBase64Encoded"])
    assert image.context["revised_prompt"].startswith("A watercolor painting")
    assert isinstance(problem, Problem) and problem.code == "56562880"
    assert "filtered out 1 generated image" in problem.reason


def test_imagen_through_the_sdk_dump_and_a_gcs_uri() -> None:
    png = (PROVIDERS.parent / "images" / "tiny.png").read_bytes()
    dump = {
        "generated_images": [
            {
                "image": {
                    "image_bytes": base64.urlsafe_b64encode(png).decode(),
                    "mime_type": "image/png",
                }
            },
            {"image": {"gcs_uri": "gs://my-bucket/imagen/out-1.png"}},
            {"rai_filtered_reason": "Filtered for safety."},
        ]
    }
    image, stored, filtered = collect(dump)
    assert isinstance(image, imgcall.DecodedImage) and image.data == png
    assert isinstance(stored, Problem) and "gs://my-bucket/imagen/out-1.png" in stored.reason
    assert isinstance(filtered, Problem) and "Filtered for safety." in filtered.reason


# -- the command line --------------------------------------------------------------------


def test_extract_saves_a_gemini_image_and_reports_a_blocked_one(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from imgcall.cli import cli

    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "extract",
            str(PROVIDERS / "gemini_response.json"),
            str(PROVIDERS / "gemini_image_safety.json"),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 1
    assert result.stdout.strip().splitlines()[0].endswith("Zk9aaJ7xN8mP1MkPlo2JkAU-0-0.png")
    assert "IMAGE_SAFETY" in result.stderr
    manifest = [
        json.loads(line) for line in (out / "imgcall-manifest.jsonl").read_text().splitlines()
    ]
    assert [(m["outcome"], m["error_code"]) for m in manifest] == [
        ("saved", None),
        ("failed", "IMAGE_SAFETY"),
    ]


def test_readme_providers_example_runs_as_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from imgcall.cli import cli

    repo = PROVIDERS.parents[1]
    body = (repo / "README.md").read_text().split("## Inputs imgcall understands\n", 1)[1]
    command, *expected = body.split("```console\n", 1)[1].split("```", 1)[0].splitlines()
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(cli, command.removeprefix("$ imgcall ").split())
    assert result.exit_code == 1
    assert result.output.splitlines() == expected
