"""imgcall._slotted: the internal value classes compare, print and pickle as dataclasses do."""

from __future__ import annotations

import pickle

import pytest

from imgcall._slotted import Frozen, Slotted
from imgcall.counts import RunCounts
from imgcall.frames import Frames
from imgcall.pipeline import Input


class Point(Frozen):
    __slots__ = ("x", "y")
    __match_args__ = ("x", "y")

    def __init__(self, x: int, y: int = 0) -> None:
        self.x = x
        self.y = y


class Tally(Slotted):
    __slots__ = ("n",)
    __match_args__ = ("n",)

    def __init__(self, n: int = 0) -> None:
        self.n = n


def test_equality_repr_and_hash_follow_the_fields_in_init_order() -> None:
    assert Point(1, 2) == Point(1, 2) and Point(1, 2) != Point(2, 1)
    assert repr(Point(1, 2)) == "Point(x=1, y=2)"
    assert len({Point(1, 2), Point(1, 2), Point(3)}) == 2
    assert (Point(1) == (1, 0)) is False  # another type is never equal
    assert Frames(2, 10, 8) == Frames(2, 10, 8, None)
    assert repr(Frames(2, 10, 8)) == "Frames(count=2, width=10, height=8, beyond=None)"


def test_mutable_values_compare_but_do_not_hash() -> None:
    counts = RunCounts(saved=2)
    counts.saved += 1
    assert counts == RunCounts(saved=3) and Tally(1) != Tally(2)
    with pytest.raises(TypeError):
        hash(counts)


def test_values_pickle_for_the_process_and_dask_engines() -> None:
    named = Input("batch.jsonl", "batch.jsonl", "batch")
    for value in (named, Frames(1, 2, 3, "frame 2"), RunCounts(items=4), Point(5, 6)):
        assert pickle.loads(pickle.dumps(value)) == value


def test_a_match_statement_reads_the_fields_positionally() -> None:
    match Frames(3, 8, 8):
        case Frames(count, width, height):
            assert (count, width, height) == (3, 8, 8)
        case _:
            pytest.fail("Frames did not match")
