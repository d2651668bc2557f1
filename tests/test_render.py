"""The command line's wording: problem lines, saved-file lines, summaries, the ls table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import imgcall
from imgcall import _render
from imgcall.counts import RunCounts
from imgcall.records import ItemRecord


def record(**fields: Any) -> ItemRecord:
    base: dict[str, Any] = {
        "index": 0,
        "input": "in.json",
        "id": "ig_1",
        "status": "completed",
        "outcome": "saved",
    }
    return ItemRecord(**(base | fields))


def test_problem_line_names_input_item_and_custom_id() -> None:
    failed = record(
        index=3,
        input="batch.jsonl",
        id="ig_7",
        status="failed",
        outcome="failed",
        location="batch.jsonl:4#/response/body/output/0",
        custom_id="req-4",
        error=imgcall.ImageGenerationFailedError("the API reported status 'failed'"),
    )
    assert _render.problem_line(failed) == (
        "error: batch.jsonl:4#/response/body/output/0: item 'ig_7' (custom_id 'req-4'): "
        "the API reported status 'failed'"
    )


def test_problem_line_for_a_whole_input_does_not_repeat_its_name() -> None:
    error = imgcall.InvalidInputError("cannot read in.json: gone")
    unreadable = record(index=None, id=None, status=None, outcome="failed", error=error)
    assert _render.problem_line(unreadable) == "error: cannot read in.json: gone"


def test_printable_escapes_control_characters() -> None:
    assert _render.printable("a\x1b[31mb") == "a\\x1b[31mb"
    assert _render.printable("plain") == "plain"


def test_saved_lines_come_in_order_on_their_streams(tmp_path: Path) -> None:
    saved = record(path=tmp_path / "ig_1.png", warnings=("status is 'generating'",))
    lines = list(_render.saved_lines(saved, Path("out"), as_json=False, quiet=False))
    assert lines == [
        (str(Path("out") / "ig_1.png"), False),
        ("warning: in.json: item 'ig_1': status is 'generating'", True),
    ]
    assert list(_render.saved_lines(saved, Path("out"), as_json=False, quiet=True)) == []


def test_extract_summary_with_conversion_and_manifest() -> None:
    counts = RunCounts(
        records=3, items=3, saved=1, overwritten=1, problems=1, converted=2, provenance_lost=1
    )
    assert _render.extract_summary(counts, convert="png", manifest=Path("m.jsonl")) == [
        "warning: 1 image carried C2PA provenance, lost by re-encoding to png (without "
        "--convert the original bytes are kept, provenance intact)",
        "imgcall: 2 saved (1 overwritten), 0 already present, 0 skipped, 1 problem "
        "(manifest: m.jsonl)",
    ]


def test_ls_summary_and_nothing_found() -> None:
    assert _render.ls_summary(RunCounts(found=2, problems=1)) == "imgcall: 2 images, 1 problem"
    assert _render.nothing_found([]) == "imgcall: no images found in <stdin>"
    assert _render.nothing_found(["a", "-", "c", "d"]) == (
        "imgcall: no images found in a, <stdin>, c, ..."
    )


def test_table_aligns_columns() -> None:
    rows = [
        record(outcome="found", format="PNG", width=16, height=12, nbytes=1500),
        record(index=1, id="ig_22", outcome="found", partial_index=0),
    ]
    assert _render.table(rows).splitlines() == [
        "#  ID     STATUS     FORMAT  WxH    SIZE    LOCATION  NOTE",
        "0  ig_1   completed  PNG     16x12  1.5 kB  in.json",
        "1  ig_22  completed  -       -      -       in.json   partial 0",
    ]


def test_reasons_and_warnings_that_quote_the_input_cannot_garble_a_terminal() -> None:
    error = imgcall.UnsupportedResultError("the image is a URL (https://x/\x1b[2J), not data")
    line = _render.problem_line(record(outcome="failed", error=error))
    assert "\x1b" not in line and "\\x1b[2J" in line
    noted = record(status="generating", warnings=("a\x07b",))
    lines = [
        text for text, _ in _render.saved_lines(noted, Path("out"), as_json=False, quiet=False)
    ]
    assert any("a\\x07b" in text for text in lines)
    assert all("\x07" not in text for text in lines)


@pytest.mark.parametrize(
    ("library", "cli"),
    [
        ("over the limit of 100 (raise Limits(max_pixels=...) to allow it)", "--max-pixels"),
        ("over the limit of 9 bytes (raise Limits(max_bytes=...) to allow it)", "--max-bytes"),
        ("not 'completed' (strict_status is set)", "(--strict-status is set)"),
        (
            "2 partial images arrived (ask for partials to get them: --partials, or partials=True)",
            "(ask for them with --partials)",
        ),
    ],
)
def test_advice_names_the_flag_on_the_command_line(library: str, cli: str) -> None:
    worded = _render.cli_words(library)
    assert cli in worded
    assert "Limits(" not in worded and "=True" not in worded and "strict_status" not in worded


def test_interrupted_line_counts_what_was_done() -> None:
    counts = RunCounts(saved=2, existing=1)
    assert _render.interrupted_line(counts).startswith("imgcall: interrupted after 3 images;")


@pytest.mark.parametrize("folder", [".", "", "out", "out/", "/", "/srv/x/", "a/./b", "../up", "~"])
@pytest.mark.parametrize("name", ["ig_1.png", "été 1.jpg", ".hidden.png", "x..png"])
def test_a_saved_file_is_shown_as_the_folder_joined_with_its_name(folder: str, name: str) -> None:
    assert _render._shown(Path(folder), name) == str(Path(folder) / name)


def test_a_file_in_object_storage_is_shown_by_its_url() -> None:
    from imgcall.objectstore import ObjectPath

    assert _render._shown(ObjectPath("s3://bucket/images/"), "a.png") == "s3://bucket/images/a.png"
