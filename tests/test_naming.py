"""File names: safe stems, name templates, rename candidates, the stay-inside check."""

from __future__ import annotations

from pathlib import Path

import pytest

import imgcall
from imgcall import OutputError
from imgcall.naming import (
    MAX_RENAMES,
    candidate_names,
    check_template,
    no_free_name,
    path_inside,
    render_stem,
    safe_stem,
)
from tests.conftest import ITEMS_DIR


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ig_123", "ig_123"),
        ("../x", "_x"),
        ("/etc/passwd", "_etc_passwd"),
        ("a/b", "a_b"),
        ("..", "image"),
        (".", "image"),
        ("CON", "_CON"),
        ("con .txt", "_con .txt"),
        ("x\x00y", "x_y"),
    ],
)
def test_safe_stem(text: str, expected: str) -> None:
    assert safe_stem(text) == expected


def test_safe_stem_caps_length() -> None:
    stem = safe_stem("é" * 300)
    assert len(stem.encode()) <= 200
    assert stem != safe_stem("é" * 301)


# --- name templates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template", ["{nope}", "{id.__class__}", "{id[0]}", "{}", "{0}", "{id", "{index:q}"]
)
def test_bad_templates_are_value_errors(tmp_path: Path, template: str) -> None:
    with pytest.raises(ValueError, match="template"):
        check_template(template)
    with pytest.raises(ValueError, match="template"):
        imgcall.save_images(ITEMS_DIR / "png.json", tmp_path / "out", name=template)
    assert not (tmp_path / "out").exists()


def test_unknown_field_message_lists_the_fields() -> None:
    with pytest.raises(ValueError, match=r"'nope'.*\{custom_id\}"):
        check_template("{nope}")


def test_render_stem_drops_a_typed_extension_and_falls_back_to_the_id() -> None:
    assert render_stem("{id}.png", {"id": "ig_1"}, fallback="ig_1") == "ig_1"
    assert render_stem("{id}", {"id": ".."}, fallback="ig/2") == "ig_2"


# --- rename candidates and the final check -------------------------------------------------


def test_candidate_names_spell_the_rename_policy() -> None:
    names = list(candidate_names("ig", "png"))
    assert names[:3] == ["ig.png", "ig-1.png", "ig-2.png"]
    assert len(names) == MAX_RENAMES + 1
    assert f"{MAX_RENAMES:,} attempts" in str(no_free_name("ig", "png"))


def test_path_inside_accepts_only_a_plain_name(tmp_path: Path) -> None:
    folder = tmp_path.resolve()
    assert path_inside(folder, "ig.png") == folder / "ig.png"
    for bad in ["", ".", "..", "a/b", "x\x00y", "z" * 256]:
        with pytest.raises(OutputError, match="not a plain name"):
            path_inside(folder, bad)
