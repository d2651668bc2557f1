"""The producing half of a run: which sources are inputs, numbering, decoding in order."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from pathlib import Path

import pytest

import imgcall
import imgcall.pipeline as pipeline
from imgcall.errors import ImgcallError
from imgcall.pipeline import Input, Options, Ready, Unit, as_sources, prepared, scan_units
from tests.conftest import ITEMS_DIR

from .helpers import item, noise_png


def test_a_list_of_paths_is_several_inputs_anything_else_is_one() -> None:
    paths = [ITEMS_DIR / "png.json", str(ITEMS_DIR / "jpeg.json")]
    assert as_sources(paths) == paths
    named = Input(io.BytesIO(b"{}"), "<stdin>")
    assert as_sources([named]) == [named]
    parsed = ['{"type": "image_generation_call"}']  # JSON text, not a path
    assert as_sources(parsed) == [parsed]
    assert as_sources({"output": []}) == [{"output": []}]


def test_json_text_with_a_byte_order_mark_is_content_named_input() -> None:
    one_line = json.dumps(json.loads((ITEMS_DIR / "png.json").read_text(encoding="utf-8")))
    text = "\ufeff" + one_line
    assert as_sources([text]) == [[text]]
    (unit,) = scan_units([text], partials=False)
    assert (unit.index, unit.input, unit.stem) == (0, "<input>", "input")


def test_sse_text_on_one_line_is_content_named_input() -> None:
    """The pipeline names inputs by the scanner's own rule: SSE text is not a path."""
    one_line = json.dumps(json.loads((ITEMS_DIR / "png.json").read_text(encoding="utf-8")))
    text = "data: " + one_line
    assert as_sources([text]) == [[text]]
    (unit,) = scan_units([text], partials=False)
    assert (unit.index, unit.input, unit.stem) == (0, "<input>", "input")


def test_units_are_numbered_across_inputs_and_a_broken_input_has_no_index(
    tmp_path: Path,
) -> None:
    sources: list[object] = [
        ITEMS_DIR / "response.json",
        tmp_path / "missing.json",
        Input(io.BytesIO((ITEMS_DIR / "png.json").read_bytes()), "<stdin>"),
    ]
    units = list(scan_units(sources, partials=False))
    assert [(u.index, u.input, u.stem) for u in units] == [
        (0, str(ITEMS_DIR / "response.json"), "response"),
        (1, str(ITEMS_DIR / "response.json"), "response"),
        (None, str(tmp_path / "missing.json"), "missing"),
        (2, "<stdin>", "stdin"),
    ]


def test_prepared_keeps_input_order_on_several_workers() -> None:
    options = Options(limits=None, check="fast", strict_status=False, convert=None)
    units = scan_units([ITEMS_DIR / "items_list.json"] * 5, partials=False)
    pairs = list(prepared(units, options, workers=3))
    assert [u.index for u, _ in pairs] == list(range(len(pairs)))
    assert all(
        isinstance(ready, Ready) and ready.sha256 == ready.image.sha256 for _, ready in pairs
    )


@pytest.mark.parametrize("convert", [None, "jpeg"])
def test_the_hash_is_of_the_bytes_written_with_the_hash_thread(convert: str | None) -> None:
    # With one worker the hash starts on its thread as soon as the bytes are decoded;
    # when converting, it must be the hash of the converted bytes instead.
    options = Options(limits=None, check="fast", strict_status=False, convert=convert)
    units = scan_units([ITEMS_DIR / "response.json"], partials=False)
    pairs = list(prepared(units, options, workers=1))
    assert len(pairs) == 2
    for _, ready in pairs:
        assert isinstance(ready, Ready)
        assert ready.sha256 == hashlib.sha256(ready.data).hexdigest()
        assert (ready.data is ready.image.data) == (convert is None or ready.image.format == "JPEG")


def hash_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("imgcall-hash")]


def test_small_images_are_hashed_inline_without_a_helper_thread(tmp_path: Path) -> None:
    # Handing each small image's hash to a thread and waiting for it cost more than the
    # hash (issue 15): below HASH_BESIDE, no thread is ever started.
    images = [noise_png(40, seed) for seed in range(3)]  # ~5 kB each
    source = tmp_path / "small.json"
    source.write_text(json.dumps({"output": [item(f"ig_{n}", d) for n, d in enumerate(images)]}))
    records = imgcall.iter_save([source], tmp_path / "out", workers=1)
    seen = []
    for record in records:
        seen.append(hash_threads())
        assert record.sha256 == hashlib.sha256(images[record.index or 0]).hexdigest()
    assert seen == [[], [], []]


@pytest.mark.parametrize(("cpus", "threads"), [(2, True), (1, False)])
def test_large_images_are_hashed_beside_the_write_when_a_second_cpu_is_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cpus: int, threads: bool
) -> None:
    monkeypatch.setattr(pipeline, "_cpus", lambda: cpus)  # taskset -c 0 gives one
    big = noise_png(320)  # ~300 kB: over HASH_BESIDE
    assert len(big) >= pipeline.HASH_BESIDE
    source = tmp_path / "big.json"
    source.write_text(json.dumps({"output": [item("a", big), item("b", big[::-1][:10] + big)]}))
    records = imgcall.iter_save([source], tmp_path / "out", workers=1)
    first = next(records)
    assert bool(hash_threads()) is threads
    assert first.sha256 == hashlib.sha256(big).hexdigest()
    list(records)


@pytest.mark.parametrize(
    ("size", "convert", "on_workers"),
    [(40, None, False), (320, None, True), (40, "jpeg", True)],
)
def test_several_workers_take_large_images_and_conversions_small_ones_stay_here(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: int,
    convert: str | None,
    on_workers: bool,
) -> None:
    # Handing a 20 KB image to a thread and waiting for it cost more than decoding it
    # (issue 15: -j 2 took twice as long as -j 1 on a batch of small images).
    threads: list[str] = []
    real = pipeline._prepare

    def spy(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_prepare", spy)
    images = [noise_png(size, seed) for seed in range(4)]
    assert (len(images[0]) >= pipeline.HASH_BESIDE) is (size == 320)
    source = tmp_path / "items.json"
    source.write_text(json.dumps({"output": [item(f"ig_{n}", d) for n, d in enumerate(images)]}))
    options = Options(limits=None, check="fast", strict_status=False, convert=convert)
    pairs = list(prepared(scan_units([source], partials=False), options, workers=2))
    assert [u.index for u, _ in pairs] == [0, 1, 2, 3]
    for (_, ready), data in zip(pairs, images, strict=True):
        assert isinstance(ready, Ready)
        assert (ready.image.data == data) and ready.image.sha256 == hashlib.sha256(data).hexdigest()
    here = threading.current_thread().name
    assert len(threads) == 4
    assert all((name != here) is on_workers for name in threads)


def test_a_unit_shifted_keeps_everything_but_its_number() -> None:
    problem = ImgcallError("broken input")
    unit = Unit(3, "batch.jsonl", "batch", problem)
    assert unit.shifted(0) is unit
    assert unit.shifted(10) == Unit(13, "batch.jsonl", "batch", problem)
    broken = Unit(None, "batch.jsonl", "batch", problem)  # no item: never numbered
    assert broken.shifted(10) is broken
