"""Odd values (lone surrogates, integers too long to print) cost that value, never an image.

Issue 13 item 6: one lone surrogate escape rejected a list of 69 images; a 5,000-digit
integer rejected a document; Python objects holding such integers let a bare ValueError
escape from the readers, the decoder and the records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import imgcall
from imgcall.cli import cli
from imgcall.oddities import Replacement, clean

from .helpers import item, png

HUGE = "9" * 5000


def images(n: int) -> list[dict[str, Any]]:
    return [item(f"ig_{k}", png((k, 40, 90))) for k in range(n)]


def test_a_lone_surrogate_id_costs_nothing_of_a_list_of_69_images(tmp_path: Path) -> None:
    text = json.dumps(images(69)).replace('"ig_7"', '"ig_\\ud83d"')
    path = tmp_path / "list.json"
    path.write_text(text)
    with pytest.warns(imgcall.ImgcallWarning, match=r"lone surrogate \(U\+D83D\).*#/7/id"):
        calls = list(imgcall.iter_calls(path))
    assert len(calls) == 69 and calls[7].id == "ig_\ufffd"
    report = imgcall.save_images(path, tmp_path / "out")
    assert report.ok and len(report.saved) == 69
    (odd,) = [r for r in report.records if r.warnings]
    assert odd.id == "ig_\ufffd" and "U+FFFD" in odd.warnings[0]


def test_a_5000_digit_integer_costs_nothing_of_the_document(tmp_path: Path) -> None:
    doc = {"id": "resp_1", "output": images(3), "usage": {"tokens": 0}}
    path = tmp_path / "response.json"
    path.write_text(json.dumps(doc).replace('"tokens": 0', f'"tokens": {HUGE}'))
    with pytest.warns(imgcall.ImgcallWarning, match="5000-digit integer"):
        found = list(imgcall.iter_images(path))
    assert [image.id for image in found] == ["ig_0", "ig_1", "ig_2"]
    # The integer is outside every item: each image of the document carries the warning.
    assert all("#/usage/tokens" in image.warnings[0] for image in found)


def test_the_cli_saves_every_image_and_names_the_odd_value(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    lines = [
        json.dumps({"custom_id": f"c{k}", "response": {"body": {"output": [x]}}})
        for k, x in enumerate(images(2))
    ]
    lines[1] = lines[1].replace('"c1"', '"c\\udc00"').replace("}}}", f'}}}}, "n": {HUGE}}}')
    path.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(cli, ["extract", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2 and all("ig_1" in line for line in warnings)
    assert any("#/custom_id" in line for line in warnings)
    assert any("5000-digit" in line and "#/n" in line for line in warnings)


class Sdk:
    """Stands in for an SDK object: only ``model_dump`` matters to imgcall."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def model_dump(self) -> dict[str, Any]:
        return self.data


def python_sources() -> list[object]:
    # One response shared by every source: none may change what another one reads.
    huge = 10**5000
    calls = images(2)
    calls[0]["seed"] = huge
    response = {"id": "resp_1", "output": calls, "created_at": huge}
    return [
        response,
        calls,
        Sdk(response),
        iter([{"type": "response.completed", "response": response}]),
        {"custom_id": huge, "response": {"body": response}},
    ]


@pytest.mark.parametrize("source", python_sources(), ids=["dict", "list", "sdk", "events", "batch"])
def test_python_objects_holding_huge_integers_never_raise_a_bare_value_error(
    tmp_path: Path, source: object
) -> None:
    with pytest.warns(imgcall.ImgcallWarning, match="digit integer"):
        decoded = list(imgcall.iter_images(source, errors="collect"))
    assert [getattr(d, "id", None) for d in decoded] == ["ig_0", "ig_1"]


def test_save_images_and_show_read_python_objects_with_huge_integers(tmp_path: Path) -> None:
    source = {"custom_id": 10**5000, "response": {"body": {"output": images(2)}}}
    report = imgcall.save_images(source, tmp_path / "out")
    assert report.ok and len(report.saved) == 2
    assert report.records[0].custom_id == "<5001-digit integer>"
    assert "ig_1" in imgcall.show(source)._repr_html_()


def test_clean_leaves_values_without_odd_values_alone() -> None:
    value = {"a": ["x" * 10_000, 1, 2.5, None, True, {"b": "é"}]}
    same, notes = clean(value, in_place=False)
    assert same is value and notes == []


def test_clean_copies_only_the_way_to_a_replacement() -> None:
    keep = {"k": [1, 2]}
    value = {"a": keep, "b": [{"s": "\ud800"}], "c": 2**20_000}
    new, notes = clean(value, in_place=False)
    assert new["a"] is keep and new["b"][0]["s"] == "\ufffd"
    assert value["b"][0]["s"] == "\ud800" and value["c"] == 2**20_000
    assert sorted(notes, key=lambda n: n.pointer) == [
        Replacement("/b/0/s", "a lone surrogate (U+D800) in a text was replaced by U+FFFD"),
        Replacement("/c", "a 6021-digit integer was replaced by '<6021-digit integer>'"),
    ]


def test_clean_in_place_changes_the_value_itself() -> None:
    value = {"a": ["\udfff"], "\ud800": 1, "n": -(10**5000)}
    new, notes = clean(value, in_place=True)
    assert new is value and value == {"a": ["\ufffd"], "\ufffd": 1, "n": "<5001-digit integer>"}
    assert sorted(n.pointer for n in notes) == ["/a/0", "/n", "/\ufffd"]


def test_pointers_escape_slashes_and_tildes() -> None:
    _, notes = clean({"a/b~c": "\ud800"}, in_place=False)
    assert notes[0].pointer == "/a~1b~0c"
    assert notes[0].describe("/3") == notes[0].message + " at #/3/a~1b~0c"
