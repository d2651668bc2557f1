"""imgcall.providers.discovery: images found by their content where no shape claims them."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest

import imgcall
from imgcall.errors import Problem
from imgcall.jsonparse import parse_json
from imgcall.providers.discovery import image_string
from tests.helpers import noise_png, png

PROVIDERS = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
IMAGES = PROVIDERS.parent / "images"


def collect(source: object, **kwargs: Any) -> list[imgcall.DecodedImage | Problem]:
    with pytest.warns(imgcall.ImgcallWarning) if kwargs.pop("warns", False) else _nothing():
        return list(imgcall.iter_images(source, errors="collect", **kwargs))


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def test_unknown_shape_images_are_found_with_ids_from_their_location() -> None:
    value = json.loads((PROVIDERS / "unknown_shape.json").read_text())
    found = collect(PROVIDERS / "unknown_shape.json", warns=True)
    assert [x.id for x in found] == [
        "unknown_shape-job-results-0-png",
        "unknown_shape-job-results-1-preview",
    ]
    png_image, jpeg_image = found
    assert isinstance(png_image, imgcall.DecodedImage) and png_image.format == "PNG"
    assert png_image.data == base64.b64decode(value["job"]["results"][0]["png"])
    assert isinstance(jpeg_image, imgcall.DecodedImage) and jpeg_image.format == "JPEG"
    (note,) = png_image.warnings
    assert "found by its content at" in note and "#/job/results/0/png" in note


def test_the_embedding_and_the_audio_beside_them_are_passed_over() -> None:
    value = json.loads((PROVIDERS / "unknown_shape.json").read_text())
    assert not image_string(value["job"]["results"][0]["embedding"])
    assert not image_string(value["job"]["voice"])
    assert image_string(value["job"]["results"][1]["preview"])


def test_discover_false_turns_it_off() -> None:
    assert list(imgcall.iter_images(PROVIDERS / "unknown_shape.json", discover=False)) == []
    assert list(imgcall.iter_calls(PROVIDERS / "unknown_shape.json", discover=False)) == []


def test_a_known_shape_inside_an_unknown_wrapper_is_read_by_its_shape() -> None:
    (image,) = collect(PROVIDERS / "wrapped_gemini.json")
    assert isinstance(image, imgcall.DecodedImage)
    assert image.id == "wrp0aJ7xN8mP1MkPlo2JkAU-0-0" and image.warnings == ()


@pytest.mark.parametrize("name", ["tiny.png", "tiny.jpg", "tiny.webp", "tiny.gif"])
def test_each_raster_format_is_recognised_in_both_alphabets(name: str) -> None:
    data = (IMAGES / name).read_bytes()
    for text in (base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()):
        assert image_string(text), name


def test_short_strings_and_lookalikes_are_not_images() -> None:
    png_text = base64.b64encode(png()).decode()
    assert not image_string(png_text[:60])  # under 64 characters
    assert not image_string("data:text/plain;base64," + base64.b64encode(b"hello " * 20).decode())
    assert not image_string("iVBORw0KGgo" + "not base64 at all!" * 10)
    rng = random.Random(7)
    for _ in range(200):  # signatures, embeddings: random bytes in base64
        assert not image_string(base64.b64encode(rng.randbytes(3000)).decode())


def test_a_data_url_with_a_wrong_type_is_an_image_by_its_bytes() -> None:
    webp = (IMAGES / "tiny.webp").read_bytes()
    assert image_string("data:application/octet-stream;base64," + base64.b64encode(webp).decode())


def test_long_strings_left_in_the_buffer_are_checked_without_copying() -> None:
    big = noise_png(side=120)  # over the parser's 16 kB threshold for lifted strings
    signature = base64.b64encode(random.Random(1).randbytes(400_000)).decode()
    doc = json.dumps({"x": {"sig": signature, "img": base64.b64encode(big).decode()}}).encode()
    value = parse_json(doc)
    assert type(value["x"]["sig"]).__name__ == "LazyText"
    assert not image_string(value["x"]["sig"]) and image_string(value["x"]["img"])
    (image,) = collect(doc, warns=True)
    assert isinstance(image, imgcall.DecodedImage) and image.data == big


def test_images_in_a_bare_list_of_unknown_objects(tmp_path: Path) -> None:
    text = base64.b64encode(png()).decode()
    found = collect([{"a": text}, {"b": [text]}], warns=True)
    assert [x.id for x in found] == ["image-0-a", "image-1-b-0"]


def test_deeply_nested_unknown_values_do_not_exhaust_the_stack() -> None:
    value: Any = {"img": base64.b64encode(png()).decode()}
    for _ in range(5000):
        value = {"wrap": value}
    (image,) = collect(value, warns=True)
    assert isinstance(image, imgcall.DecodedImage)


def test_a_broken_image_found_by_content_is_a_problem_not_a_crash() -> None:
    text = base64.b64encode(png())[:-12].decode()
    (problem,) = collect({"blob": text})
    assert isinstance(problem, Problem) and problem.id == "image-blob"


def test_cli_no_discover(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from imgcall.cli import cli

    source = str(PROVIDERS / "unknown_shape.json")
    found = CliRunner().invoke(cli, ["ls", source, "--json"])
    assert found.exit_code == 0 and len(found.stdout.splitlines()) == 2
    assert "found by its content" in found.stdout
    none = CliRunner().invoke(cli, ["extract", source, "--no-discover", "-o", str(tmp_path / "o")])
    assert none.exit_code == 3 and none.stdout == ""
    assert "no images found" in none.stderr
