"""The ImgcallError tree: one root, id and location in attributes and messages."""

from __future__ import annotations

import pickle

import pytest

import imgcall
from imgcall import ImgcallError, InvalidBase64Error, Problem
from imgcall.models import Location

ERRORS = [
    "InvalidInputError",
    "InvalidItemError",
    "ImageNotReadyError",
    "ImageGenerationFailedError",
    "EmptyResultError",
    "InvalidBase64Error",
    "UnsupportedResultError",
    "UnsupportedImageError",
    "ImageTooLargeError",
    "CorruptImageError",
    "OutputExistsError",
    "OutputError",
]


@pytest.mark.parametrize("name", ERRORS)
def test_every_error_is_an_imgcall_error_with_id_and_location(name: str) -> None:
    cls = getattr(imgcall, name)
    assert issubclass(cls, ImgcallError)
    location = Location("resp.json").child("output", 3)
    error = cls("the reason", id="ig_7", location=location)
    assert (error.id, error.location, error.reason) == ("ig_7", location, "the reason")
    assert str(error) == "resp.json#/output/3: item 'ig_7': the reason"


@pytest.mark.parametrize("name", ERRORS)
def test_errors_survive_pickling_for_worker_processes(name: str) -> None:
    error = getattr(imgcall, name)("why", id="ig_1", location="x.json:3")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (copy.id, copy.location, str(copy)) == ("ig_1", "x.json:3", str(error))


def test_every_message_has_one_style_where_then_which_then_why() -> None:
    assert str(ImgcallError("broken", location="in.jsonl:4:7")) == "in.jsonl:4:7: broken"
    assert str(ImgcallError("why", id="ig_1")) == "item 'ig_1': why"
    assert str(ImgcallError("broken")) == "broken"


def test_with_origin_fills_only_what_is_missing() -> None:
    error = ImgcallError("why", id="ig_1")
    assert error.with_origin(id="other", location="f.json") is error
    assert (error.id, error.location) == ("ig_1", "f.json")
    assert str(error) == "f.json: item 'ig_1': why"
    assert error.args == (str(error),)


def test_invalid_base64_keeps_its_offset_through_pickle() -> None:
    error = InvalidBase64Error("bad", id="a", offset=17)
    assert pickle.loads(pickle.dumps(error)).offset == 17


def test_problem_carries_the_error() -> None:
    error = imgcall.EmptyResultError("empty", id="ig_2", location="r.json")
    problem = Problem("ig_2", "r.json", "completed", error, {"custom_id": "c1"})
    assert problem.reason == "empty"
    assert str(problem) == str(error)
    assert problem.context["custom_id"] == "c1"
    assert problem.partial is False
