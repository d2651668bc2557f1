"""save_images / iter_save / list_images: names, conflicts, manifest, failures, safety."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import imgcall
from imgcall import ImageGenerationCall, InvalidInputError, OutputError
from imgcall.items import read_item
from imgcall.manifest import MANIFEST_NAME
from imgcall.pipeline import Input
from imgcall.saving import list_images
from tests.conftest import IMAGES_DIR, ITEMS_DIR

from .helpers import item, png

MANIFEST_FIELDS = {
    "id",
    "status",
    "outcome",
    "path",
    "format",
    "width",
    "height",
    "bytes",
    "sha256",
    "location",
    "custom_id",
    "revised_prompt",
    "error",
    "partial",
    "partial_index",
}


def manifest_lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines()]


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


# --- the basic job -------------------------------------------------------------------------


def test_response_images_are_saved_unchanged_with_real_extensions(
    tmp_path: Path, image_bytes: Callable[[str], bytes]
) -> None:
    out = tmp_path / "out"
    report = imgcall.save_images(ITEMS_DIR / "response.json", out)

    assert report.counts() == {"saved": 2, "overwritten": 0, "exists": 0, "skipped": 0, "failed": 0}
    assert report.ok
    assert [p.name for p in report.paths] == ["ig_68a1.png", "ig_68a2.jpg"]
    assert (out / "ig_68a1.png").read_bytes() == image_bytes("tiny.png")
    assert (out / "ig_68a2.jpg").read_bytes() == image_bytes("tiny.jpg")
    first, second = report.records
    assert first.response_id == "resp_68a1"
    assert first.revised_prompt and "otter" in first.revised_prompt
    assert (first.format, first.width, first.height) == ("PNG", 16, 12)
    assert second.status == "generating"
    assert second.warnings and "generating" in second.warnings[0]


def test_generating_item_is_recorded_not_warned(tmp_path: Path) -> None:
    """Decoding notes go into the report; no Python warning (pytest turns them into errors)."""
    report = imgcall.save_images(ITEMS_DIR / "status_generating.json", tmp_path / "out")
    assert report.records[0].outcome == "saved"
    assert "generating" in report.records[0].warnings[0]


def test_report_lists_problems_without_raising(tmp_path: Path) -> None:
    items = [
        item("good", png()),
        item("broken", None, "failed"),
        {"type": "image_generation_call", "id": "pending", "status": "in_progress"},
    ]
    report = imgcall.save_images(items, tmp_path / "out")
    assert [r.outcome for r in report] == ["saved", "failed", "failed"]
    assert [type(r.error).__name__ for r in report.failed] == [
        "ImageGenerationFailedError",
        "ImageNotReadyError",
    ]
    assert not report.ok
    assert len(report) == 3


def test_several_paths_are_one_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = imgcall.save_images(
        [ITEMS_DIR / "response.json", str(ITEMS_DIR / "items_list.json")], out, name="{index}"
    )
    assert [p.name for p in report.paths] == ["0.png", "1.jpg", "2.png", "3.webp"]
    assert [r.input for r in report] == [str(ITEMS_DIR / "response.json")] * 2 + [
        str(ITEMS_DIR / "items_list.json")
    ] * 2
    assert len(manifest_lines(out)) == 4


def test_unreadable_input_raises_after_saving_what_came_before(tmp_path: Path) -> None:
    out = tmp_path / "out"
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "image_generation_call",')
    with pytest.raises(InvalidInputError, match=r"broken\.json"):
        imgcall.save_images([ITEMS_DIR / "png.json", broken], out)
    assert (out / "ig_png.png").exists()
    lines = manifest_lines(out)
    assert [line["outcome"] for line in lines] == ["saved", "failed"]
    assert lines[1]["error_type"] == "InvalidInputError"
    assert lines[1]["index"] is None


def test_broken_line_is_a_problem_not_an_input_error(tmp_path: Path) -> None:
    pytest.importorskip("imgcall.framing")  # JSON Lines come with the framing layer
    source = tmp_path / "lines.jsonl"
    first, second = json.dumps(item("a", png())), json.dumps(item("b", png((9, 9, 9))))
    source.write_text(f"{first}\n{{broken\n{second}\n")
    report = imgcall.save_images(source, tmp_path / "out")
    assert [r.outcome for r in report] == ["saved", "failed", "saved"]
    broken = report.records[1]
    assert isinstance(broken.error, InvalidInputError) and not broken.input_failed
    assert broken.index == 1


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"nope\.json"):
        imgcall.save_images(tmp_path / "nope.json", tmp_path / "out")


def test_iter_save_goes_on_after_a_broken_input(tmp_path: Path) -> None:
    records = list(
        imgcall.iter_save(
            [tmp_path / "missing.json", ITEMS_DIR / "png.json"], tmp_path / "out", manifest=False
        )
    )
    assert [r.outcome for r in records] == ["failed", "saved"]
    assert records[0].input_failed and records[0].id is None
    assert records[1].index == 0


def test_named_input_gives_stem_and_location(tmp_path: Path) -> None:
    data = (ITEMS_DIR / "png.json").read_bytes()
    report = imgcall.save_images(
        Input(io.BytesIO(data), "<stdin>"), tmp_path / "out", name="{stem}-{id}"
    )
    record = report.records[0]
    assert record.path is not None and record.path.name == "stdin-ig_png.png"
    assert record.input == "<stdin>"
    assert record.location is not None and record.location.startswith("<stdin>")


def test_nothing_found_writes_nothing(tmp_path: Path) -> None:
    report = imgcall.save_images(ITEMS_DIR / "wrong_type.json", tmp_path / "out")
    assert len(report) == 0 and report.ok
    assert not (tmp_path / "out").exists()


# --- idempotence and conflicts -------------------------------------------------------------


def test_rerun_is_idempotent(tmp_path: Path) -> None:
    out = tmp_path / "out"
    imgcall.save_images(ITEMS_DIR / "response.json", out)
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()}

    again = imgcall.save_images(ITEMS_DIR / "response.json", out)

    assert [r.outcome for r in again] == ["exists", "exists"]
    assert again.ok
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()}
    assert {k: v for k, v in after.items() if k != MANIFEST_NAME} == {
        k: v for k, v in before.items() if k != MANIFEST_NAME
    }
    # The manifest describes the latest run only: no mix of runs.
    assert [line["outcome"] for line in manifest_lines(out)] == ["exists", "exists"]


@pytest.mark.parametrize(
    ("policy", "outcome", "expected_files"),
    [
        ("error", "failed", {"ig_png.png"}),
        ("skip", "skipped", {"ig_png.png"}),
        ("rename", "saved", {"ig_png.png", "ig_png-1.png"}),
        ("overwrite", "overwritten", {"ig_png.png"}),
    ],
)
def test_conflict_policies(
    tmp_path: Path,
    image_bytes: Callable[[str], bytes],
    policy: Any,
    outcome: str,
    expected_files: set[str],
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    other = png((1, 2, 3))
    (out / "ig_png.png").write_bytes(other)

    report = imgcall.save_images(ITEMS_DIR / "png.json", out, on_conflict=policy, manifest=False)

    record = report.records[0]
    assert record.outcome == outcome
    assert {p.name for p in out.iterdir()} == expected_files
    if policy == "error":
        assert isinstance(record.error, imgcall.OutputExistsError)
        assert "ig_png.png" in str(record.error) and "rename" in str(record.error)
    if policy in ("error", "skip"):
        assert (out / "ig_png.png").read_bytes() == other
    if policy == "rename":
        assert record.path == (out / "ig_png-1.png").resolve()
        assert (out / "ig_png-1.png").read_bytes() == image_bytes("tiny.png")
    if policy == "overwrite":
        assert (out / "ig_png.png").read_bytes() == image_bytes("tiny.png")


@pytest.mark.parametrize("policy", ["error", "skip", "rename", "overwrite"])
def test_identical_file_already_present_counts_as_done(tmp_path: Path, policy: Any) -> None:
    out = tmp_path / "out"
    imgcall.save_images(ITEMS_DIR / "png.json", out)
    report = imgcall.save_images(ITEMS_DIR / "png.json", out, on_conflict=policy)
    assert [r.outcome for r in report] == ["exists"]
    assert sorted(p.name for p in out.iterdir()) == ["ig_png.png", MANIFEST_NAME]


def test_invalid_policy_and_convert_are_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="on_conflict"):
        imgcall.save_images(ITEMS_DIR / "png.json", tmp_path, on_conflict="replace")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="convert"):
        imgcall.save_images(ITEMS_DIR / "png.json", tmp_path, convert="tiff")
    with pytest.raises(ValueError, match="workers"):
        imgcall.save_images(ITEMS_DIR / "png.json", tmp_path, workers=0)


# --- two items, one name -------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["error", "skip", "rename", "overwrite"])
def test_duplicate_ids_with_different_bytes_never_share_a_file(tmp_path: Path, policy: Any) -> None:
    out = tmp_path / "out"
    red, blue = png((255, 0, 0)), png((0, 0, 255))
    items = [item("dup", red), item("dup", blue), item("DUP", png((0, 255, 0)))]

    report = imgcall.save_images(items, out, on_conflict=policy)

    assert [r.outcome for r in report] == ["saved", "saved", "saved"]
    assert [p.name for p in report.paths] == ["dup.png", "dup-1.png", "DUP-2.png"]
    assert (out / "dup.png").read_bytes() == red
    assert (out / "dup-1.png").read_bytes() == blue

    # And a re-run finds every file where the first run put it.
    again = imgcall.save_images(items, out, on_conflict=policy)
    assert [r.outcome for r in again] == ["exists"] * 3
    assert [p.name for p in again.paths] == ["dup.png", "dup-1.png", "DUP-2.png"]


def test_duplicate_ids_with_identical_bytes_are_one_file(tmp_path: Path) -> None:
    data = png()
    report = imgcall.save_images([item("same", data), item("same", data)], tmp_path / "out")
    assert [r.outcome for r in report] == ["saved", "exists"]
    assert report.records[0].path == report.records[1].path
    assert len(list((tmp_path / "out").glob("*.png"))) == 1


# --- hostile names -------------------------------------------------------------------------

HOSTILE_IDS = [
    "../x",
    "../../escaped",
    "/etc/x",
    "/tmp/abs",
    "a/b",
    "a\\b",
    "..\\..\\win",
    "..",
    ".",
    "...",
    "",
    "   ",
    "CON",
    "con.txt",
    "NUL",
    "Com1",
    "lpt9.tar",
    "x\x00y",
    "\x00",
    "a" * 300,
    "é" * 200,
    "\x1b[31mred\x1b[0m",
    "line\nbreak",
    "\u202egnp.exe",
    ".hidden",
    "trailing. ",
    "~",
    "-rf",
]


def test_hostile_ids_never_leave_the_output_folder(tmp_path: Path) -> None:
    sandbox = tmp_path / "sandbox"
    out = sandbox / "deep" / "out"
    items = [item(hid, png((i, i, i))) for i, hid in enumerate(HOSTILE_IDS)]

    report = imgcall.save_images(items, out)

    assert report.ok, [str(r.error) for r in report.failed]
    assert len(report.saved) == len(HOSTILE_IDS)
    resolved = out.resolve()
    for path in files_under(sandbox):
        assert path.parent == out, path
    for record in report:
        assert record.path is not None and record.path.parent == resolved
        assert len(record.path.name.encode()) <= 255
        assert record.path.read_bytes() == png((record.index or 0,) * 3)
    names = {p.name for p in out.iterdir()}
    assert len(names) == len(HOSTILE_IDS) + 1  # every item its own file, plus the manifest
    assert not any(n.split(".")[0].upper() in {"CON", "NUL", "COM1", "LPT9"} for n in names)
    assert not any(n.startswith(".") for n in names)
    assert not any(ch in n for n in names for ch in "\x00\n\x1b\u202e/\\")


@pytest.mark.parametrize("template", ["../{id}", "/tmp/{id}", "{id}/../../{id}", "..", "a/b/c"])
def test_hostile_templates_stay_inside(tmp_path: Path, template: str) -> None:
    out = tmp_path / "sandbox" / "out"
    report = imgcall.save_images(ITEMS_DIR / "png.json", out, name=template)
    assert report.ok
    assert all(p.parent == out for p in files_under(tmp_path / "sandbox"))


def test_lone_surrogate_in_an_id_is_replaced_saved_and_logged(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = imgcall.save_images([item("x\ud800y", png())], out)
    assert [p.name for p in report.paths] == ["x\ufffdy.png"]
    (line,) = manifest_lines(out)
    assert line["id"] == "x\ufffdy" and line["outcome"] == "saved"
    (warning,) = line["warnings"]
    assert "lone surrogate (U+D800)" in warning and warning.endswith("at #/0/id")


def test_long_ids_stay_distinct(tmp_path: Path) -> None:
    base = "x" * 400
    items = [item(base + "1", png((1, 1, 1))), item(base + "2", png((2, 2, 2)))]
    report = imgcall.save_images(items, tmp_path / "out")
    names = [p.name for p in report.paths]
    assert len(set(names)) == 2
    assert all(len(n.encode()) <= 255 for n in names)
    assert not any(n.endswith("-1.png") for n in names)  # told apart by hash, not by rename


def test_output_folder_through_a_symlink_works(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    report = imgcall.save_images(ITEMS_DIR / "png.json", tmp_path / "link")
    assert report.ok and (real / "ig_png.png").exists()


# --- name templates ------------------------------------------------------------------------


def test_template_fields(tmp_path: Path) -> None:
    report = imgcall.save_images(
        ITEMS_DIR / "response.json",
        tmp_path / "out",
        name="{stem}_{index:03d}_{response_id}_{custom_id}_{status}_{sha8}",
    )
    first, second = report.records
    assert first.sha256 is not None and second.sha256 is not None
    assert first.path is not None and second.path is not None
    # custom_id is absent from a plain response: it falls back to the id.
    assert first.path.name == f"response_000_resp_68a1_ig_68a1_completed_{first.sha256[:8]}.png"
    assert second.path.name == f"response_001_resp_68a1_ig_68a2_generating_{second.sha256[:8]}.jpg"


def test_response_id_falls_back_to_id(tmp_path: Path) -> None:
    report = imgcall.save_images(ITEMS_DIR / "png.json", tmp_path / "out", name="{response_id}")
    assert [p.name for p in report.paths] == ["ig_png.png"]


def test_extension_written_in_the_template_is_not_doubled(tmp_path: Path) -> None:
    report = imgcall.save_images(ITEMS_DIR / "jpeg.json", tmp_path / "out", name="{id}.png")
    assert [p.name for p in report.paths] == ["ig_jpeg.jpg"]


# --- convert -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "fmt", "ext"), [("jpeg", "JPEG", "jpg"), ("webp", "WEBP", "webp")]
)
def test_convert_reencodes_and_says_provenance_is_lost(
    tmp_path: Path, target: str, fmt: str, ext: str
) -> None:
    from tests.c2pa_helpers import picture, sign

    out = tmp_path / "out"
    signed = sign(picture("PNG", size=(16, 12)), "PNG")
    source = [item("ig_png", signed), item("ig_plain", png())]
    report = imgcall.save_images(source, out, convert=target)
    record, plain = report.records
    assert record.path is not None and record.path.name == f"ig_png.{ext}"
    with Image.open(record.path) as image:
        assert image.format == fmt and image.size == (16, 12)
    assert record.converted_from == "PNG"
    assert record.note is not None and "C2PA" in record.note
    # The re-encoded file itself carries no manifest, and a plain image has none to lose.
    assert record.c2pa is False and plain.converted_from == "PNG" and plain.note is None
    line = manifest_lines(out)[0]
    assert line["format"] == fmt and line["converted_from"] == "PNG" and "C2PA" in line["note"]
    assert line["bytes"] == record.path.stat().st_size and line["c2pa"] is False


def test_convert_to_the_same_format_keeps_the_bytes(
    tmp_path: Path, image_bytes: Callable[[str], bytes]
) -> None:
    report = imgcall.save_images(ITEMS_DIR / "png.json", tmp_path / "out", convert="png")
    record = report.records[0]
    assert record.path is not None and record.path.read_bytes() == image_bytes("tiny.png")
    assert record.converted_from is None and record.note is None


def test_convert_keeps_an_svg_as_svg_with_a_warning(
    tmp_path: Path, image_bytes: Callable[[str], bytes]
) -> None:
    report = imgcall.save_images(ITEMS_DIR / "svg.json", tmp_path / "out", convert="png")
    (record,) = report.records
    assert (record.outcome, record.format, record.converted_from) == ("saved", "SVG", None)
    assert report.paths[0].name == "ig_svg.svg"
    assert report.paths[0].read_bytes() == image_bytes("tiny.svg")
    assert record.warnings == (
        "an SVG image is never rasterised: saved as .svg, not converted to PNG",
    )
    line = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text())
    assert line["warnings"] == list(record.warnings)


def test_saving_one_svg_with_convert_warns_and_keeps_it(
    tmp_path: Path, load_item: Callable[[str], dict[str, Any]]
) -> None:
    image = imgcall.decode(load_item("svg"))
    with pytest.warns(imgcall.ImgcallWarning, match="never rasterised") as caught:
        path = image.save(tmp_path / "out" / "picture", convert="jpeg")
    assert path.name == "picture.svg" and path.read_bytes() == image.data
    assert caught[0].filename == __file__  # the caller's line, not imgcall's


def test_svg_is_saved_as_svg(tmp_path: Path, image_bytes: Callable[[str], bytes]) -> None:
    report = imgcall.save_images(ITEMS_DIR / "svg.json", tmp_path / "out")
    assert report.paths[0].name == "ig_svg.svg"
    assert report.paths[0].read_bytes() == image_bytes("tiny.svg")


# --- manifest ------------------------------------------------------------------------------


def test_manifest_has_a_line_per_item_and_problem(tmp_path: Path) -> None:
    out = tmp_path / "out"
    items = [
        item("ok", png(), revised_prompt="a red square"),
        item("nope", None, "failed"),
        item("bad", b"not an image at all"),
    ]
    imgcall.save_images(items, out)
    lines = manifest_lines(out)
    assert len(lines) == 3
    assert all(set(line) >= MANIFEST_FIELDS for line in lines)
    ok, failed, bad = lines
    assert ok["outcome"] == "saved" and ok["revised_prompt"] == "a red square"
    assert ok["path"] == str((out / "ok.png").resolve())
    assert (ok["width"], ok["height"], ok["format"]) == (8, 6, "PNG")
    assert ok["bytes"] == len(png()) and ok["sha256"] == imgcall.decode(items[0]).sha256
    assert ok["location"] == "<object>#/0" and ok["error"] is None
    assert failed["outcome"] == "failed" and "failed" in failed["error"]
    assert failed["path"] is None and failed["status"] == "failed"
    assert bad["error_type"] == "UnsupportedImageError"


def test_manifest_is_written_as_the_run_goes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    records = imgcall.iter_save([ITEMS_DIR / "items_list.json"], out)
    first = next(records)
    assert first.outcome == "saved"
    assert len(manifest_lines(out)) == 1  # flushed before the next item is even decoded
    rest = list(records)
    assert len(rest) == 1 and len(manifest_lines(out)) == 2


def test_no_manifest(tmp_path: Path) -> None:
    report = imgcall.save_images(ITEMS_DIR / "png.json", tmp_path / "out", manifest=False)
    assert report.manifest is None
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["ig_png.png"]


def test_manifest_failure_is_reported_once_and_the_run_goes_on(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / MANIFEST_NAME).mkdir(parents=True)  # a folder where the manifest should go
    report = imgcall.save_images(ITEMS_DIR / "items_list.json", out)
    assert [r.outcome for r in report] == ["saved", "failed", "saved"]
    manifest_problem = report.records[1]
    assert isinstance(manifest_problem.error, OutputError)
    assert MANIFEST_NAME in str(manifest_problem.error)
    assert manifest_problem.manifest_failed and not report.records[0].manifest_failed
    assert report.manifest is None  # the report never names a manifest it did not write
    assert len(report.paths) == 2


# --- workers, partials, listing ------------------------------------------------------------


def test_workers_give_the_same_result_in_the_same_order(tmp_path: Path) -> None:
    items = [item(f"i{n % 7}", png((n, 0, 0))) for n in range(30)]
    items.insert(5, item("failed", None, "failed"))
    serial = imgcall.save_images(items, tmp_path / "a", workers=1)
    parallel = imgcall.save_images(items, tmp_path / "b", workers=4)
    assert [(r.id, r.outcome, r.path and r.path.name) for r in serial] == [
        (r.id, r.outcome, r.path and r.path.name) for r in parallel
    ]
    assert len(serial.saved) == 30 and len(serial.failed) == 1


def test_stopping_early_with_workers_does_not_hang(tmp_path: Path) -> None:
    items = [item(f"i{n}", png((n, 0, 0))) for n in range(40)]
    records = imgcall.iter_save([items], tmp_path / "out", workers=3)
    assert next(records).id == "i0"
    records.close()
    assert len(manifest_lines(tmp_path / "out")) == 1


def test_partials_are_named_after_their_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imgcall.scan

    def fake_scan(
        source: object, *, partials: bool = False, name: str | None = None, discover: bool = True
    ) -> Iterator[Any]:
        assert partials
        for k in range(2):
            found = read_item(item("ig_stream", png((k, 9, 9)), "in_progress"))
            yield found.with_origin(partial_index=k)
        yield read_item(item("ig_stream", png((99, 9, 9))))

    monkeypatch.setattr(imgcall.scan, "scan_items", fake_scan)
    report = imgcall.save_images("stream.txt", tmp_path / "out", partials=True)
    assert [p.name for p in report.paths] == [
        "ig_stream.partial0.png",
        "ig_stream.partial1.png",
        "ig_stream.png",
    ]
    assert [r.partial_index for r in report] == [0, 1, None]
    assert [r.warnings for r in report] == [(), (), ()]  # a partial is not a status problem


def test_list_images_writes_nothing(tmp_path: Path) -> None:
    before = files_under(tmp_path)
    records = list(list_images([ITEMS_DIR / "response.json", ITEMS_DIR / "bad_base64.json"]))
    assert files_under(tmp_path) == before
    assert [r.outcome for r in records] == ["found", "found", "failed"]
    assert [r.index for r in records] == [0, 1, 2]
    assert (records[0].width, records[0].height, records[0].path) == (16, 12, None)
    assert records[2].error is not None and "offset" in records[2].error.reason


def test_limits_and_checks_apply(tmp_path: Path) -> None:
    small = imgcall.save_images(
        ITEMS_DIR / "png.json", tmp_path / "out", limits=imgcall.Limits(max_pixels=100)
    )
    assert isinstance(small.records[0].error, imgcall.ImageTooLargeError)
    truncated = imgcall.save_images(ITEMS_DIR / "truncated_png.json", tmp_path / "out")
    assert isinstance(truncated.records[0].error, imgcall.CorruptImageError)
    lenient = imgcall.save_images(ITEMS_DIR / "truncated_png.json", tmp_path / "b", check="none")
    assert [r.outcome for r in lenient] == ["saved"]
    strict = imgcall.save_images(
        ITEMS_DIR / "status_generating.json", tmp_path / "c", strict_status=True
    )
    assert isinstance(strict.records[0].error, imgcall.ImageNotReadyError)


def test_sdk_like_sources_are_accepted(tmp_path: Path) -> None:
    call = ImageGenerationCall.model_validate(item("sdk", png()))
    report = imgcall.save_images({"object": "response", "output": [call.model_dump()]}, tmp_path)
    assert [p.name for p in report.paths] == ["sdk.png"]


def test_every_item_fixture_saves_or_reports(tmp_path: Path) -> None:
    """No fixture makes save_images crash; only broken inputs raise InvalidInputError."""
    for index, fixture in enumerate(sorted(ITEMS_DIR.glob("*.json"))):
        report = imgcall.save_images(fixture, tmp_path / str(index))
        for record in report:
            assert record.outcome in ("saved", "failed")
            assert (record.error is None) == (record.outcome == "saved")
    assert IMAGES_DIR.exists()


# --- a run that saves nothing leaves nothing; an unusable folder fails first ---------------


def test_an_unusable_output_folder_raises_before_anything_is_read(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    read: list[object] = []

    def events() -> Iterator[dict[str, Any]]:
        read.append("started")
        yield item("a", png())

    with pytest.raises(OutputError, match="cannot create the output folder"):
        imgcall.save_images(events(), tmp_path / "file" / "sub")
    with pytest.raises(OutputError):
        imgcall.iter_save([events()], tmp_path / "file" / "sub")  # at once, not on next()
    assert read == []


def test_a_mistyped_input_leaves_no_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"nope\.json"):
        imgcall.save_images("nope.json", tmp_path / "o_nope" / "deep")
    assert not (tmp_path / "o_nope").exists()


def test_a_run_of_failures_only_leaves_nothing_and_reports_no_manifest(tmp_path: Path) -> None:
    failed = [item(f"f{n}", None, "failed") for n in range(3)]
    report = imgcall.save_images(failed, tmp_path / "out")
    assert [r.outcome for r in report] == ["failed"] * 3
    assert report.manifest is None
    assert not (tmp_path / "out").exists()


def test_problems_held_back_past_memory_still_reach_the_manifest_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imgcall.saverun as saverun

    monkeypatch.setattr(saverun, "_HELD_IN_MEMORY", 200)  # a few lines, then a temporary file
    items = [item(f"f{n}", None, "failed") for n in range(40)] + [item("ok", png())]
    report = imgcall.save_images(items, tmp_path / "out")
    lines = (tmp_path / "out" / MANIFEST_NAME).read_text().splitlines()
    assert [json.loads(x)["id"] for x in lines] == [f"f{n}" for n in range(40)] + ["ok"]
    assert report.manifest == tmp_path / "out" / MANIFEST_NAME


def test_identical_images_under_one_name_are_one_file_and_a_duplicate(tmp_path: Path) -> None:
    report = imgcall.save_images([item("same", png()), item("same", png())], tmp_path / "out")
    first, second = report.records
    assert (first.outcome, first.duplicate_of) == ("saved", None)
    assert (second.outcome, second.duplicate_of, second.path) == ("exists", "same.png", first.path)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [MANIFEST_NAME, "same.png"]


# --- C2PA in the manifest, sidecars, embedded metadata -------------------------------------


def test_manifest_says_which_files_carry_c2pa(tmp_path: Path) -> None:
    from tests.c2pa_helpers import picture, sign

    source = [
        item("ig_signed", sign(picture("JPEG"), "JPEG")),
        item("ig_plain", png()),
        item("ig_failed", None, status="failed"),
    ]
    report = imgcall.save_images(source, tmp_path / "out")
    assert [r.c2pa for r in report.records] == [True, False, None]
    assert [line["c2pa"] for line in manifest_lines(tmp_path / "out")] == [True, False, None]
    assert [r.c2pa for r in list_images([source])] == [True, False, None]


def test_sidecars_hold_the_manifest_record(tmp_path: Path) -> None:
    out = tmp_path / "out"
    source = [
        item("ig_1", png(), revised_prompt="a red square"),
        item("ig_2", png((0, 0, 255))),
        item("ig_bad", None, status="failed"),
    ]
    report = imgcall.save_images(source, out, sidecar=True)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["ig_1.json", "ig_1.png", "ig_2.json", "ig_2.png", MANIFEST_NAME]
    lines = manifest_lines(out)
    for record, line in zip(report.records[:2], lines, strict=False):
        assert record.path is not None
        sidecar = json.loads(record.path.with_suffix(".json").read_text())
        assert sidecar == line
    assert json.loads((out / "ig_1.json").read_text())["revised_prompt"] == "a red square"
    # A re-run rewrites them to say "exists", as the manifest does.
    again = imgcall.save_images(source, out, sidecar=True)
    assert [r.outcome for r in again.records] == ["exists", "exists", "failed"]
    assert json.loads((out / "ig_2.json").read_text())["outcome"] == "exists"
    assert all(not r.warnings for r in again.records)


def test_a_sidecar_never_replaces_a_file_that_is_not_one(tmp_path: Path) -> None:
    # The payload itself is named like the sidecar would be: it must survive.
    out = tmp_path / "out"
    out.mkdir()
    payload = out / "ig_1.json"
    text = json.dumps(item("ig_1", png()))
    payload.write_text(text)
    (out / "ig_2.json").symlink_to(tmp_path / "elsewhere.json")
    report = imgcall.save_images(
        [payload, write_items(tmp_path, [item("ig_2", png((1, 2, 3)))])], out, sidecar=True
    )
    assert [r.outcome for r in report.records] == ["saved", "saved"]
    assert payload.read_text() == text
    assert (out / "ig_2.json").is_symlink() and not (tmp_path / "elsewhere.json").exists()
    first, second = report.records
    assert first.warnings == (
        "sidecar ig_1.json not written: a file that is not an imgcall sidecar is there",
    )
    assert second.warnings == (
        "sidecar ig_2.json not written: something that is not a regular file is there",
    )


def test_two_images_sharing_a_stem_get_two_sidecars(tmp_path: Path) -> None:
    out = tmp_path / "out"
    jpeg = io.BytesIO()
    Image.new("RGB", (4, 4)).save(jpeg, format="JPEG")
    source = [item("x", png()), item("x", jpeg.getvalue())]
    report = imgcall.save_images(source, out, sidecar=True)
    assert sorted(p.name for p in out.iterdir() if p.suffix == ".json") == ["x.jpg.json", "x.json"]
    assert json.loads((out / "x.jpg.json").read_text())["format"] == "JPEG"
    assert all(not r.warnings for r in report.records)


def test_embedded_metadata_reads_back_and_signed_files_are_left_alone(tmp_path: Path) -> None:
    from tests.c2pa_helpers import picture, sign

    signed = sign(picture("PNG"), "PNG")
    source = [
        batch_line("req-1", item("ig_png", png(), revised_prompt="a café at night")),
        batch_line("req-2", item("ig_signed", signed, revised_prompt="signed")),
    ]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps(line) + "\n" for line in source))
    report = imgcall.save_images(batch, tmp_path / "out", embed_metadata=True)
    first, second = report.records
    assert first.path is not None and second.path is not None
    with Image.open(first.path) as image:
        image.load()
        assert image.text["Description"] == "a café at night"  # type: ignore[attr-defined]
        assert image.text["imgcall:id"] == "ig_png"  # type: ignore[attr-defined]
        assert image.text["imgcall:custom_id"] == "req-1"  # type: ignore[attr-defined]
        assert image.text["imgcall:response_id"] == "resp_req-1"  # type: ignore[attr-defined]
    assert first.sha256 != hashlib.sha256(png()).hexdigest() and not first.warnings
    assert second.path.read_bytes() == signed and second.c2pa is True
    assert second.warnings == (
        "metadata not embedded: the file carries C2PA provenance, whose signature writing "
        "into it would break (the manifest and sidecar hold the same facts)",
    )


def batch_line(custom_id: str, image_item: dict[str, Any]) -> dict[str, Any]:
    body = {"id": f"resp_{custom_id}", "object": "response", "output": [image_item]}
    return {"custom_id": custom_id, "response": {"status_code": 200, "body": body}}


def write_items(folder: Path, items: list[dict[str, Any]]) -> Path:
    path = folder / "more.json"
    path.write_text(json.dumps(items))
    return path
