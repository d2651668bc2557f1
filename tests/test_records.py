"""Records of a run: the JSON line, the report's counts, running totals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import imgcall
from imgcall.counts import RunCounts
from imgcall.manifest import MANIFEST_NAME
from imgcall.records import ItemRecord, SaveReport
from tests.conftest import ITEMS_DIR


def record(outcome: Any, **fields: Any) -> ItemRecord:
    return ItemRecord(
        index=0, input="in.json", id="ig_1", status="completed", outcome=outcome, **fields
    )


def manifest_lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines()]


def test_to_json_uses_the_manifest_field_names() -> None:
    error = imgcall.OutputError("disk full")
    line = json.loads(record("failed", nbytes=3, error=error).to_json())
    assert line["bytes"] == 3 and "nbytes" not in line
    assert (line["error"], line["error_type"]) == ("disk full", "OutputError")
    assert line["warnings"] == [] and line["path"] is None
    assert line["error_code"] is None


def test_the_providers_error_code_is_in_the_record_and_survives_pickling() -> None:
    import pickle

    error = imgcall.ImageGenerationFailedError("blocked", id="ig_1", code="moderation_blocked")
    line = json.loads(record("failed", error=error).to_json())
    assert (line["error"], line["error_code"]) == ("blocked", "moderation_blocked")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.id, copy.reason) == ("moderation_blocked", "ig_1", "blocked")
    problem = imgcall.Problem("ig_1", None, "failed", error)
    assert problem.code == "moderation_blocked"


def test_to_json_escapes_a_lone_surrogate() -> None:
    text = ItemRecord(0, "in.json", "x\ud800y", "completed", "saved").to_json()
    text.encode("utf-8")  # always encodable
    assert json.loads(text)["id"] == "x\ud800y"


def test_report_and_running_counts_agree() -> None:
    records = [
        record("saved"),
        record("overwritten"),
        record("exists"),
        record("skipped"),
        record("failed", error=imgcall.OutputError("x")),
        ItemRecord(None, "gone.json", None, None, "failed", error=imgcall.InvalidInputError("x")),
    ]
    report = SaveReport(out_dir=Path("out"), manifest=None, records=records)
    counts = RunCounts()
    for item in records:
        counts.add(item)
    assert report.counts() == {
        "saved": counts.saved,
        "overwritten": counts.overwritten,
        "exists": counts.existing,
        "skipped": counts.skipped,
        "failed": counts.problems,
    }
    assert (counts.records, counts.items, counts.found, counts.converted) == (6, 5, 0, 0)
    assert not report.ok and len(report.failed) == 2 and records[5].input_failed


def test_reprs_are_short_lines_for_any_number_of_records(tmp_path: Path) -> None:
    items = [
        {"type": "image_generation_call", "id": f"ig_{n}", "status": "failed"} for n in range(300)
    ]
    source = tmp_path / "many.json"
    source.write_text(json.dumps(items))
    report = imgcall.save_images(ITEMS_DIR / "response.json", tmp_path / "out")
    assert repr(report) == (
        f"<SaveReport {str(tmp_path / 'out')!r}: 2 saved, 0 overwritten, 0 exists, 0 skipped, "
        f"0 failed; manifest={str(tmp_path / 'out' / MANIFEST_NAME)!r}>"
    )
    saved = report.records[0]
    assert repr(saved) == (
        f"ItemRecord(index=0, id='ig_68a1', outcome='saved', "
        f"path={str(tmp_path / 'out' / 'ig_68a1.png')!r})"
    )
    failed = imgcall.save_images(source, tmp_path / "f")
    assert len(repr(failed)) < 200 and "300 failed" in repr(failed)
    assert repr(failed.records[0]) == (
        "ItemRecord(index=0, id='ig_0', outcome='failed', "
        "error=\"ImageGenerationFailedError: the API reported status 'failed'\")"
    )
    long = record("failed", error=imgcall.OutputError("x" * 5000))
    assert len(repr(long)) < 200 and repr(long).endswith("xx…')")


def test_record_attributes_carry_the_manifests_names() -> None:
    one = record("saved", nbytes=233, duplicate_of="a.png")
    line = json.loads(one.to_json())
    assert one.bytes == one.nbytes == line["bytes"] == 233
    assert one.duplicate_of == line["duplicate_of"] == "a.png"
    attributes = {name for name in dir(one) if not name.startswith("_")}
    # Every manifest field is an attribute under the same name.
    assert set(line) - attributes == {"error_type"}  # the error's class: type(record.error)


def test_a_manifest_line_is_the_record_as_json_in_utf8() -> None:
    record = ItemRecord(
        3, "in.jsonl", "ig_é", "completed", "saved", revised_prompt="a \ud800 lone surrogate"
    )
    plain = ItemRecord(4, "in.jsonl", "ig_é", "completed", "saved", revised_prompt="café")
    assert plain.to_line() == plain.to_json().encode("utf-8")
    assert json.loads(plain.to_line()) == plain.to_dict()
    assert "café" in plain.to_json()  # UTF-8, not \u escapes
    line = record.to_line()  # a lone surrogate cannot be UTF-8: the line is escaped
    assert line.isascii() and json.loads(line) == record.to_dict()
    assert record.to_json() == line.decode("ascii")
