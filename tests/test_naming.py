"""File names: safe stems, name templates, rename candidates, the stay-inside check."""

from __future__ import annotations

import os
import re
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import imgcall
import imgcall.naming as naming
from imgcall import OutputError
from imgcall.naming import (
    IMAGE_SUFFIX,
    MAX_FORMAT_WIDTH,
    MAX_RENAMES,
    TEMPLATE_FIELDS,
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


# --- bounded templates and names -----------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{index:099999999999}", "the width 99999999999 of {index:099999999999}"),
        ("{index:>999999999}", "the width 999999999 of"),
        ("x{id:^256}", "the width 256 of {id:^256}"),
        ("{id:.100000}", "the precision 100000 of"),
        ("{index:" + "9" * 5000 + "}", "5,008 characters long"),
        ("{id:>{index}}", "a field inside a format spec"),
        ("{index:c}", "for a large {index}"),
        ("{id:" + "x" * 40 + "}", "invalid format spec"),
    ],
)
def test_templates_that_cannot_give_a_sane_name_are_value_errors(
    tmp_path: Path, template: str, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check_template(template)
    # The library refuses it before any work: no folder, no file, no MemoryError.
    with pytest.raises(ValueError, match=re.escape(message)):
        imgcall.save_images(ITEMS_DIR / "png.json", tmp_path / "out", name=template)
    assert not (tmp_path / "out").exists()


def test_the_largest_width_allowed_still_gives_a_name(tmp_path: Path) -> None:
    template = f"{{index:0{MAX_FORMAT_WIDTH}d}}"
    check_template(template)
    report = imgcall.save_images(ITEMS_DIR / "png.json", tmp_path / "out", name=template)
    (path,) = report.paths
    assert path.parent == (tmp_path / "out").resolve() and path.name.startswith("0000")
    assert len(path.name.encode()) <= 255


def test_safe_stem_of_a_huge_id_costs_about_nothing() -> None:
    # Sanitised character by character, 4 million characters cost a list of 4 million
    # strings (over 30 MB) and seconds; only a prefix can reach the stem anyway.
    text = "é" * 4_000_000
    tracemalloc.start()
    try:
        stem = safe_stem(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000
    assert len(stem.encode()) <= 200 and stem.startswith("éé")
    assert stem != safe_stem(text + "x")


def test_safe_stem_of_a_long_text_of_dots_is_still_unique() -> None:
    # Nothing of the first 1,024 characters survives; the hash of the whole tells them apart.
    first, second = safe_stem("." * 5000 + "a"), safe_stem("." * 5000 + "b")
    assert first != second and first.startswith("image-")


FIELD_VALUES = st.text(max_size=300) | st.sampled_from(["..", ".", "/", "CON", "a/../b", "\x00"])
SPECS = st.builds(
    lambda fill, align, sign, zero, width, precision, kind: (
        f"{fill}{align}{sign}{zero}{width}{precision}{kind}"
    ),
    st.sampled_from(["", "x", ".", "/", "\\", " "]),
    st.sampled_from(["", "<", ">", "^"]),
    st.sampled_from(["", "+", " "]),
    st.sampled_from(["", "0"]),
    st.sampled_from(["", "1", "20", "199", "255"]),
    st.sampled_from(["", ".0", ".3", ".255"]),
    st.sampled_from(["", "s", "d", "x", "b", "o"]),
)


@st.composite
def templates(draw: st.DrawFn) -> str:
    """Literal text and fields, some with format specs, joined into a template."""
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        literal = draw(st.text(max_size=20)).replace("{", "{{").replace("}", "}}")
        field = draw(st.sampled_from(TEMPLATE_FIELDS))
        conversion = draw(st.sampled_from(["", "!r", "!s", "!a"]))
        spec = draw(st.none() | SPECS)
        parts.append(f"{literal}{{{field}{conversion}{':' + spec if spec else ''}}}")
    parts.append(draw(st.text(max_size=20)).replace("{", "{{").replace("}", "}}"))
    return "".join(parts)


def assert_a_name_inside(folder: Path, template: str, fields: dict[str, object]) -> None:
    stem = render_stem(template, fields, fallback=str(fields["id"]))
    for file_name in [f"{stem}.png", f"{stem}.partial3-9999.webp"]:
        path = path_inside(folder, file_name)
        # Created for real: the file system takes it, and it is where it was meant to be.
        path.write_bytes(b"x")
        assert path.resolve().parent == folder
        assert [p.name for p in folder.iterdir()] == [file_name]
        path.unlink()


@settings(max_examples=300, deadline=None)
@given(
    template=templates(),
    values=st.fixed_dictionaries({f: FIELD_VALUES for f in TEMPLATE_FIELDS}),
    index=st.integers(0, 2**63),
)
def test_any_id_and_any_valid_template_give_a_name_inside_the_folder(
    template: str, values: dict[str, str], index: int
) -> None:
    try:
        check_template(template)
    except ValueError:
        assume(False)  # not a valid template: refused up front, which is all it may do
    fields: dict[str, object] = {**values, "index": index}
    with tempfile.TemporaryDirectory() as tmp:
        assert_a_name_inside(Path(tmp).resolve(), template, fields)


@settings(max_examples=300, deadline=None)
@given(template=st.text(max_size=60) | st.builds("{{index:{}}}".format, st.text(max_size=30)))
def test_any_text_is_a_valid_template_or_a_value_error(template: str) -> None:
    try:
        check_template(template)
    except ValueError:
        return
    fields: dict[str, object] = {f: "ig_1" for f in TEMPLATE_FIELDS} | {"index": 7}
    stem = render_stem(template, fields, fallback="ig_1")
    assert 0 < len(stem.encode("utf-8", "surrogatepass")) <= 200


def test_path_inside_walks_no_symlinks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A plain name in a resolved folder cannot be anywhere else: the two realpath walks
    # it used to make per image were a fifth of a run of small images (issue 15).
    def no_walks(path: object, *args: object, **kwargs: object) -> str:
        raise AssertionError("path_inside resolved a path")

    folder = tmp_path.resolve()
    monkeypatch.setattr(os.path, "realpath", no_walks)
    assert path_inside(folder, "ig.png") == folder / "ig.png"
    with pytest.raises(OutputError, match="not a plain name"):
        path_inside(folder, "../ig.png")


PLAIN_IDS = st.from_regex(r"[A-Za-z0-9_.-]{1,230}", fullmatch=True) | st.sampled_from(
    ["CON", "con.png", "NUL.tar", "aux", "COM1", "lpt9.x", ".hidden", "end.", "-", "x" * 200]
)


@settings(max_examples=400, deadline=None)
@given(text=PLAIN_IDS)
def test_the_plain_id_shortcut_gives_what_the_full_rules_give(text: str) -> None:
    fast = safe_stem(text)
    never = re.compile(r"(?!)")  # matches nothing: every text takes the full rules
    plain, naming._PLAIN = naming._PLAIN, never
    try:
        assert fast == safe_stem(text)
    finally:
        naming._PLAIN = plain


@given(
    text=st.text(max_size=40)
    | st.from_regex(r"[A-Za-z0-9_.-]{1,30}(\.(png|JPG|webp))?", fullmatch=True),
    fallback=st.text(max_size=20),
)
@settings(max_examples=300)
def test_render_stem_gives_what_the_full_rules_give_with_the_fallback_worked_out(
    text: str, fallback: str
) -> None:
    # render_stem skips working out the fallback for a plain id: the same stem results.
    full = safe_stem(IMAGE_SUFFIX.sub("", text), fallback=safe_stem(fallback))
    assert render_stem("{id}", {"id": text}, fallback=fallback) == full
