"""imgcall.counts: the running totals the command line's summary is made of."""

from __future__ import annotations

from typing import Any

import imgcall
from imgcall.counts import RunCounts
from imgcall.records import ItemRecord


def record(outcome: Any, **fields: Any) -> ItemRecord:
    return ItemRecord(
        index=0, input="in.json", id="ig_1", status="completed", outcome=outcome, **fields
    )


def test_running_counts_tell_duplicates_from_files_already_there() -> None:
    counts = RunCounts()
    for one in (record("saved"), record("exists", duplicate_of="x.png"), record("exists")):
        counts.add(one)
    assert (counts.saved, counts.duplicates, counts.existing, counts.placed) == (1, 1, 1, 3)


def test_problems_conversions_and_whole_inputs_are_counted_apart() -> None:
    counts = RunCounts()
    failed = ItemRecord(
        None, "gone.json", None, None, "failed", error=imgcall.InvalidInputError("x")
    )
    converted = record("saved", converted_from="JPEG", note="provenance not kept")
    for one in (failed, converted, record("found")):
        counts.add(one)
    assert (counts.records, counts.items, counts.problems) == (3, 2, 1)
    assert (counts.converted, counts.provenance_lost, counts.found, counts.saved) == (1, 1, 1, 1)
