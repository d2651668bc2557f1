"""Notebook display: the image bundle, SVG safety, the gallery, and the stream watcher."""

from __future__ import annotations

import base64
import dataclasses
import gc
import html as html_lib
import io
import json
import os
import re
import subprocess
import sys
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image

import imgcall
from imgcall import DecodedImage, Gallery, Location, Problem, decode, show, watch
from imgcall.caption import Captioned
from imgcall.errors import CorruptImageError, ImageGenerationFailedError
from imgcall.notebook import DISPLAY_SIDE, MAX_EMBED_BYTES, PREVIEW_SIDE

from .animations import apng, gif_bomb
from .conftest import FIXTURES_DIR

ImageBytes = Callable[[str], bytes]
NOTEBOOK_FIXTURES = FIXTURES_DIR / "notebook"
STREAM = NOTEBOOK_FIXTURES / "stream_events.jsonl"
GALLERY = NOTEBOOK_FIXTURES / "gallery_response.json"
HOSTILE_ID = "<script>alert(1)</script>"


def item(data: bytes, id: str = "ig_1", status: str = "completed", **extra: Any) -> dict[str, Any]:
    result = base64.b64encode(data).decode()
    return {"type": "image_generation_call", "id": id, "status": status, **extra, "result": result}


def decoded(data: bytes, id: str = "ig_1", **extra: Any) -> DecodedImage:
    return decode(item(data, id, **extra))


def png(size: tuple[int, int], color: tuple[int, int, int] = (40, 90, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def pixels(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


@pytest.fixture(scope="module")
def noisy_png() -> bytes:
    """A 2048x2048 PNG of random pixels: about 12 MB that no codec can shrink."""
    image = Image.frombytes("RGB", (2048, 2048), os.urandom(2048 * 2048 * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


# --- the display bundle ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mime"),
    [("tiny.png", "image/png"), ("tiny.jpg", "image/jpeg"), ("tiny.gif", "image/gif")],
)
def test_native_formats_embed_the_original_bytes(
    image_bytes: ImageBytes, name: str, mime: str
) -> None:
    image = decoded(image_bytes(name))
    data, metadata = image._repr_mimebundle_()
    assert set(data) == {mime, "text/plain"}
    assert data[mime] == image_bytes(name)
    assert metadata == {mime: {"width": image.width}}


@pytest.mark.parametrize("name", ["tiny.webp", "tiny-lossless.webp"])
def test_webp_is_shown_as_png_only(image_bytes: ImageBytes, name: str) -> None:
    image = decoded(image_bytes(name))
    data, metadata = image._repr_mimebundle_()
    assert set(data) == {"image/png", "text/plain"}
    assert data["image/png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert pixels(data["image/png"]) == (image.width, image.height)
    assert metadata == {"image/png": {"width": image.width}}


def test_safe_svg_is_shown_as_svg(image_bytes: ImageBytes) -> None:
    image = decoded(image_bytes("tiny.svg"))
    data, metadata = image._repr_mimebundle_()
    assert set(data) == {"image/svg+xml", "text/plain"}
    # The checked parse written out again: the same markup without its XML declaration.
    original = image_bytes("tiny.svg").decode()
    assert data["image/svg+xml"] == original.split("?>", 1)[1].strip()
    assert metadata == {}


def test_text_plain_is_the_stable_repr(image_bytes: ImageBytes) -> None:
    first = decoded(image_bytes("tiny.png"))._repr_mimebundle_()[0]["text/plain"]
    again = decoded(image_bytes("tiny.png"))._repr_mimebundle_()[0]["text/plain"]
    assert first == again == "<DecodedImage 'ig_1' PNG 16x12 233 B completed>"
    assert "0x" not in first


@pytest.mark.parametrize(
    ("size", "width"),
    [((4096, 4096), DISPLAY_SIDE), ((4096, 1024), DISPLAY_SIDE), ((1024, 4096), 128)],
)
def test_display_width_keeps_huge_images_in_the_page(size: tuple[int, int], width: int) -> None:
    image = decoded(png(size))
    data, metadata = image._repr_mimebundle_()
    assert data["image/png"] == image.data  # small file: still the original bytes
    assert metadata["image/png"]["width"] == width


def test_small_images_are_not_enlarged(image_bytes: ImageBytes) -> None:
    _, metadata = decoded(image_bytes("tiny.png"))._repr_mimebundle_()
    assert metadata["image/png"]["width"] == 16


def test_a_very_large_original_is_shown_as_a_bounded_preview(noisy_png: bytes) -> None:
    image = decoded(noisy_png)
    assert image.nbytes > MAX_EMBED_BYTES
    data, metadata = image._repr_mimebundle_()
    images = {k: v for k, v in data.items() if k.startswith("image/")}
    assert len(images) == 1, "one image type only: a notebook must not store it twice"
    ((mime, preview),) = images.items()
    assert len(preview) <= MAX_EMBED_BYTES
    assert max(pixels(preview)) <= PREVIEW_SIDE
    assert metadata == {mime: {"width": DISPLAY_SIDE}}


def test_preview_threshold_switches_png_to_a_preview(
    image_bytes: ImageBytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("imgcall.notebook.MAX_EMBED_BYTES", 100)
    image = decoded(image_bytes("tiny.png"))
    data, _ = image._repr_mimebundle_()
    ((mime, preview),) = ((k, v) for k, v in data.items() if k.startswith("image/"))
    assert preview != image.data  # a re-encoded preview (JPEG: even PNG is over 100 B)
    assert mime == "image/jpeg" and pixels(preview) == (16, 12)


def test_an_undecodable_preview_is_a_note_not_an_exception() -> None:
    broken = b"RIFF\x1c\x00\x00\x00WEBPVP8 \x10\x00\x00\x00" + b"\x00" * 16
    image = DecodedImage(
        id="ig_broken", status="completed", data=broken, format="WEBP", width=16, height=12
    )
    data, metadata = image._repr_mimebundle_()
    assert set(data) == {"text/plain"} and metadata == {}
    assert data["text/plain"].startswith("<DecodedImage 'ig_broken' WEBP")
    assert "no preview:" in data["text/plain"]


# --- include / exclude -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "include", "exclude", "expected"),
    [
        ("tiny.png", {"text/plain"}, None, {"text/plain"}),
        ("tiny.png", None, {"text/plain"}, {"image/png"}),
        ("tiny.png", None, {"image/png"}, {"text/plain"}),
        ("tiny.png", {"image/png", "text/html"}, {"image/png"}, set()),
        ("tiny.jpg", {"image/jpeg"}, None, {"image/jpeg"}),
        ("tiny.webp", {"image/webp"}, None, {"image/webp"}),
        ("tiny.webp", {"image/webp", "image/png"}, None, {"image/webp", "image/png"}),
        ("tiny.webp", None, {"image/png"}, {"image/webp", "text/plain"}),
        ("tiny.webp", {"image/png"}, None, {"image/png"}),
        ("tiny.svg", None, {"image/svg+xml"}, {"text/plain"}),
        ("tiny.svg", {"image/svg+xml"}, None, {"image/svg+xml"}),
    ],
)
def test_include_and_exclude_are_honoured(
    image_bytes: ImageBytes,
    name: str,
    include: set[str] | None,
    exclude: set[str] | None,
    expected: set[str],
) -> None:
    image = decoded(image_bytes(name))
    data, metadata = image._repr_mimebundle_(include=include, exclude=exclude)
    assert set(data) == expected
    assert set(metadata) <= set(data)
    if "image/webp" in data:
        assert data["image/webp"] == image.data


def test_nothing_is_re_encoded_for_a_text_only_front_end(
    image_bytes: ImageBytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("re-encoded an image nobody asked for")

    monkeypatch.setattr("imgcall.decoding.thumbnail", refuse)
    image = decoded(image_bytes("tiny.webp"))
    assert set(image._repr_mimebundle_(include={"text/plain"})[0]) == {"text/plain"}


# --- animations within the budget ----------------------------------------------------------


def test_an_animation_within_the_budget_is_embedded_as_it_is() -> None:
    data = gif_bomb(64, 20)  # 81,920 pixels to animate
    shown, _ = decoded(data)._repr_mimebundle_()
    assert shown["image/gif"] == data


@pytest.mark.parametrize(
    ("data", "mime"),
    [(gif_bomb(2000, 2000), "image/gif"), (apng((2000, 2000), [(0, 0, 1, 1)] * 50), "image/png")],
    ids=["gif", "apng"],
)
def test_an_animation_over_the_budget_shows_its_first_frame(data: bytes, mime: str) -> None:
    image = decoded(data)
    shown, _ = image._repr_mimebundle_()
    assert shown.get(mime) != data  # the front end is never handed every frame
    preview = shown["image/png"]
    assert preview.startswith(b"\x89PNG") and pixels(preview) == (PREVIEW_SIDE, PREVIEW_SIDE)
    with Image.open(io.BytesIO(preview)) as frame:
        assert getattr(frame, "n_frames", 1) == 1
    assert "showing its first frame only" in shown["text/plain"]
    assert "over the budget of 64,000,000" in shown["text/plain"]
    # The image's own limits decide: with a larger budget it is embedded as it is.
    roomy = dataclasses.replace(image, limits=imgcall.Limits(max_total_pixels=10**10))
    assert roomy._repr_mimebundle_()[0][mime] == data


def test_show_thumbnails_an_animation_bomb_from_its_first_frame() -> None:
    html = show(decoded(gif_bomb(2000, 2000)))._repr_html_()
    assert "data:image/jpeg;base64," in html or "data:image/png;base64," in html
    assert "no preview" not in html


# --- SVG display (the allow-list itself is tested in test_svgsafe.py) -----------------

_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    ' width="8" height="8">{}</svg>'
)


def test_unsafe_svg_is_shown_as_a_card_and_never_live() -> None:
    markup = _SVG.format('<rect width="8" height="8" onclick="alert(1)"/>').encode()
    image = decoded(markup, id="ig_svg")
    assert image.format == "SVG"
    data, metadata = image._repr_mimebundle_()
    assert set(data) == {"text/html", "text/plain"} and metadata == {}
    text = data["text/plain"]
    assert text.startswith("<DecodedImage 'ig_svg' SVG")
    assert "SVG not shown live" in text and "onclick" in text
    card = data["text/html"]
    assert "<figure" in card and "onclick" in card  # the reason, as escaped text
    assert "<svg" not in card and "<rect" not in card and "data:image/svg" not in card


def test_svg_over_the_embed_size_is_a_card() -> None:
    rects = '<rect width="1" height="1"/>' * (MAX_EMBED_BYTES // 28 + 1)
    image = decoded(_SVG.format(rects).encode())
    data, _ = image._repr_mimebundle_()
    assert "image/svg+xml" not in data and "over the" in data["text/plain"]


# --- show(): the gallery --------------------------------------------------------------------


def test_gallery_of_a_response_with_a_failed_item() -> None:
    gallery = show(GALLERY)
    assert isinstance(gallery, Gallery)
    assert (len(gallery), gallery.total, gallery.images, gallery.problems) == (4, 4, 3, 1)
    assert gallery.omitted == 0
    html = gallery._repr_html_()
    assert html.count("<img ") == 3
    assert html.count("<figure ") == 4
    assert "data:image/jpeg;base64," in html  # opaque images: compact JPEG thumbnails
    assert "data:image/png;base64," in html  # the transparent WebP keeps its alpha
    for id in ("ig_gallery_png", "ig_gallery_jpeg", "ig_gallery_webp", "ig_gallery_failed"):
        assert f">{id}</code>" in html
    assert "ImageGenerationFailedError" in html
    assert "Your request was rejected by the safety system." in html
    assert "A lighthouse on a cliff at sunset, flat colours." in html
    assert "384x256" in html and "more not shown" not in html


def test_failed_items_appear_as_cards_with_their_reason(
    load_item: Callable[[str], dict[str, Any]],
) -> None:
    items = [load_item(n) for n in ("png", "bad_base64", "status_failed", "truncated_png")]
    gallery = show(items)
    assert (gallery.images, gallery.problems) == (1, 3)
    html = gallery._repr_html_()
    assert html.count("<img ") == 1
    assert html.count("✗ ") == 3
    for error in ("InvalidBase64Error", "ImageGenerationFailedError", "CorruptImageError"):
        assert error in html
    assert "ig_bad_b64" in html and "ig_truncated" in html


def test_html_stays_small_with_many_large_images(noisy_png: bytes) -> None:
    first = decoded(noisy_png, id="ig_0")
    images = [dataclasses.replace(first, id=f"ig_{i}") for i in range(60)]
    gallery = show(images)
    html = gallery._repr_html_()
    assert len(html) < 2_000_000
    assert 60 * first.nbytes > 300 * len(html)
    assert html.count("<img ") == 50 == len(gallery)
    assert "and 10 more not shown (10 images, 0 problems)" in html
    assert (gallery.total, gallery.omitted) == (60, 10)
    budget = gallery.thumb * gallery.thumb * 3 // 4
    for chunk in html.split("base64,")[1:]:
        assert len(chunk.split('"', 1)[0]) <= budget * 4 // 3 + 4


def test_thumbnails_are_made_once_and_the_html_is_cached(
    image_bytes: ImageBytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imgcall import decoding

    calls = []
    real = decoding.thumbnail

    def counting(*args: Any, **kwargs: Any) -> tuple[bytes, str]:
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(decoding, "thumbnail", counting)
    gallery = show([decoded(image_bytes("tiny.png")), decoded(image_bytes("tiny.jpg"))])
    assert calls == ["PNG", "JPEG"]
    html = gallery._repr_html_()
    assert gallery._repr_html_() is html
    repr(gallery)
    assert calls == ["PNG", "JPEG"]


def test_the_gallery_keeps_no_original_bytes(image_bytes: ImageBytes) -> None:
    refs: list[weakref.ref[DecodedImage]] = []

    def images() -> Iterator[DecodedImage]:
        for i in range(5):
            image = decoded(image_bytes("tiny.png"), id=f"ig_{i}")
            refs.append(weakref.ref(image))
            yield image

    gallery = show(images())
    gc.collect()
    assert len(refs) == 5 and all(ref() is None for ref in refs)
    assert len(gallery) == 5


def test_count_rest_false_stops_reading_at_the_cap(image_bytes: ImageBytes) -> None:
    pulled = []

    def images() -> Iterator[DecodedImage]:
        for i in range(1000):
            pulled.append(i)
            yield decoded(image_bytes("tiny.png"), id=f"ig_{i}")

    gallery = show(images(), limit=3, count_rest=False)
    assert len(pulled) == 4  # the cap, plus one to know that there is more
    assert (len(gallery), gallery.total, gallery.omitted) == (3, None, None)
    assert "and more not shown" in gallery._repr_html_()


def test_limit_none_shows_everything_and_the_rest_is_counted(
    load_item: Callable[[str], dict[str, Any]],
) -> None:
    items = [dict(load_item("png"), id=f"ig_{i}") for i in range(7)] + [load_item("status_failed")]
    assert len(show(items, limit=None)) == 8
    gallery = show(items, limit=2)
    assert (len(gallery), gallery.total, gallery.images, gallery.problems) == (2, 8, 7, 1)
    assert "and 6 more not shown (5 images, 1 problem)" in gallery._repr_html_()


def test_hostile_ids_prompts_and_reasons_are_escaped(image_bytes: ImageBytes) -> None:
    prompt = '"><img src=x onerror=alert(2)>'
    image = decoded(image_bytes("tiny.png"), id=HOSTILE_ID, revised_prompt=prompt)
    image = dataclasses.replace(image, location=Location("<b>evil</b>.json", "/output/0"))
    problem = Problem(
        "<img src=y onerror=alert(3)>",
        Location("<i>x</i>"),
        "failed'\"",
        ImageGenerationFailedError("<script>alert(4)</script> & more"),
        {"revised_prompt": "</figure><script>alert(5)</script>"},
    )
    html = show([image, problem])._repr_html_()
    assert "<script" not in html
    assert "onerror=alert" not in html.replace("onerror=alert(2)&gt;", "").replace(
        "onerror=alert(3)&gt;", ""
    )
    assert "<img src=x" not in html and "<img src=y" not in html
    assert "<b>" not in html and "<i>" not in html and "</figure><" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;script&gt;alert(4)&lt;/script&gt; &amp; more" in html
    assert "&lt;b&gt;evil&lt;/b&gt;.json" in html
    assert "failed&#x27;&quot;" in html


def test_hostile_items_from_json_are_escaped(image_bytes: ImageBytes) -> None:
    items = [
        item(image_bytes("tiny.png"), HOSTILE_ID, revised_prompt="<svg onload=alert(1)>"),
        {"type": "image_generation_call", "id": "<b>x</b>", "status": "failed", "result": None},
    ]
    html = show(items)._repr_html_()
    assert "<script" not in html and "<svg" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_long_strings_are_cut_so_cards_stay_small(image_bytes: ImageBytes) -> None:
    image = decoded(image_bytes("tiny.png"), id="i" * 100_000, revised_prompt="p" * 100_000)
    html = show(image)._repr_html_()
    thumb = html.split("base64,", 1)[1].split('"', 1)[0]
    assert len(html) - len(thumb) < 5_000
    assert len(repr(show(image))) < 1_000


def test_svg_thumbnails_are_the_checked_markup_in_an_image() -> None:
    markup = _SVG.format("<!-- note --><rect width='8' height='8' fill='#36c'/>").encode()
    html = show(decoded(markup))._repr_html_()
    uri = html.split('src="data:image/svg+xml;base64,', 1)[1].split('"', 1)[0]
    shown = base64.b64decode(uri).decode()
    assert shown.startswith("<svg ") and '<rect width="8" height="8" fill="#36c"/>' in shown
    assert "note" not in shown  # written out from the parse: comments are dropped


def test_unsafe_svg_thumbnails_are_cards_with_the_reason() -> None:
    markup = _SVG.format("<script>alert(1)</script><rect width='8' height='8'/>").encode()
    html = show(decoded(markup))._repr_html_()
    assert "SVG not shown" in html and "script" in html
    assert "data:image/svg" not in html and "<svg" not in html and "<script" not in html


def test_show_accepts_images_problems_and_sources_mixed(
    image_bytes: ImageBytes, load_item: Callable[[str], dict[str, Any]]
) -> None:
    problem = Problem("ig_p", None, "failed", ImageGenerationFailedError("boom"))
    gallery = show([decoded(image_bytes("tiny.gif")), problem, load_item("jpeg")])
    assert (gallery.images, gallery.problems) == (2, 1)
    assert show(decoded(image_bytes("tiny.png"))).total == 1
    assert show(iter([decoded(image_bytes("tiny.png"))])).total == 1
    assert show(imgcall.iter_images(GALLERY, errors="collect")).total == 4
    assert show(json.loads(GALLERY.read_text())).total == 4
    assert show([]).total == 0 and "<figure" not in show([])._repr_html_()


def test_partial_images_are_marked(image_bytes: ImageBytes) -> None:
    image = dataclasses.replace(decoded(image_bytes("tiny.png")), partial_index=1)
    html = show(image)._repr_html_()
    assert "partial 1" in html


def test_a_card_without_preview_says_why() -> None:
    broken = DecodedImage(
        id="ig_broken",
        status="completed",
        data=b"\x89PNG\r\n\x1a\n",
        format="PNG",
        width=4,
        height=4,
    )
    html = show(broken)._repr_html_()
    assert "no preview:" in html and "<img " not in html


def test_plain_repr_is_one_line_per_item_and_capped(image_bytes: ImageBytes) -> None:
    images = [decoded(image_bytes("tiny.png"), id=f"ig_{i}") for i in range(30)]
    text = repr(show(images, limit=25))
    lines = text.splitlines()
    assert lines[0] == "<Gallery 30 items: 30 images, 0 problems>"
    assert lines[1] == "  <DecodedImage 'ig_0' PNG 16x12 233 B completed>".replace(
        "<DecodedImage ", ""
    ).replace(">", "")
    assert len(lines) == 1 + 20 + 2
    assert "5 more shown in the HTML view" in lines[21]
    assert "and 5 more not shown" in lines[22]
    assert "0x" not in text


@pytest.mark.parametrize(
    "kwargs",
    [{"columns": 0}, {"thumb": 8}, {"thumb": 4096}, {"limit": -1}, {"columns": 2.5}],
)
def test_bad_gallery_options_are_value_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        show([], **kwargs)


def test_an_unreadable_source_raises_at_show_time() -> None:
    with pytest.raises(imgcall.InvalidInputError):
        show("{not json")


# --- watch(): live streams -----------------------------------------------------------------


class FakeHandle:
    """Stands in for IPython's DisplayHandle: records updates."""

    def __init__(self, log: list[tuple[str, int, object]], slot: int) -> None:
        self.log = log
        self.slot = slot

    def update(self, obj: object) -> None:
        self.log.append(("update", self.slot, obj))


class FakeDisplay:
    """Stands in for ``IPython.display.display``: records each call, returns a handle."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int, object]] = []
        self.slots = 0

    def __call__(self, obj: object, *, display_id: bool = False) -> FakeHandle:
        assert display_id is True
        self.slots += 1
        self.log.append(("display", self.slots, obj))
        return FakeHandle(self.log, self.slots)


def stream_events() -> list[dict[str, Any]]:
    with STREAM.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def require_stream_support() -> None:
    """Fail, not skip, until the scanner reads Responses stream events (issue 3)."""
    found = list(imgcall.iter_images(stream_events(), partials=True))
    assert found, (
        "imgcall.iter_images yields nothing for a list of Responses stream events: the "
        "scanner's stream support (issue 3) has not landed yet"
    )


def final_item() -> dict[str, Any]:
    done = [e for e in stream_events() if e["type"] == "response.output_item.done"]
    item: dict[str, Any] = done[0]["item"]
    return item


def describe(log: list[tuple[str, int, object]]) -> list[tuple[str, int, str, int | None]]:
    out = []
    for action, slot, obj in log:
        if isinstance(obj, Captioned):  # the final image, shown with its caption
            obj = obj.image
        assert isinstance(obj, DecodedImage), obj
        out.append((action, slot, obj.id, obj.partial_index))
    return out


def test_watch_shows_partials_then_the_final_image_in_place() -> None:
    require_stream_support()
    display = FakeDisplay()
    finals = watch(iter(stream_events()), display=display)
    assert describe(display.log) == [
        ("display", 1, "ig_stream_1", 0),
        ("update", 1, "ig_stream_1", 1),
        ("update", 1, "ig_stream_1", None),
    ]
    assert [image.id for image in finals] == ["ig_stream_1"]
    (final,) = finals
    assert not final.partial and final.status == "completed"
    assert final.data == base64.b64decode(final_item()["result"])
    assert final.context["revised_prompt"] == final_item()["revised_prompt"]
    shown = display.log[-1][2]
    assert isinstance(shown, Captioned) and shown.image is final
    html = shown._repr_mimebundle_()[0]["text/html"]
    assert "ig_stream_1" in html and html.count("<figcaption") == 1
    assert html_lib.escape(final_item()["revised_prompt"][:60]) in html


def test_watch_without_partials_shows_only_the_final() -> None:
    require_stream_support()
    display = FakeDisplay()
    finals = watch(stream_events(), partials=False, display=display)
    assert describe(display.log) == [("display", 1, "ig_stream_1", None)]
    assert len(finals) == 1


def test_watch_keeps_one_slot_per_item_in_an_interleaved_stream() -> None:
    require_stream_support()
    events = stream_events()
    other = json.loads(json.dumps(events).replace("ig_stream_1", "ig_stream_2"))
    partials = [e for e in events if e["type"].endswith("partial_image")]
    partials2 = [e for e in other if e["type"].endswith("partial_image")]
    done = [e for e in events if e["type"] == "response.output_item.done"]
    done2 = [e for e in other if e["type"] == "response.output_item.done"]
    mixed = [partials[0], partials2[0], partials[1], done2[0], partials2[1], done[0]]
    display = FakeDisplay()
    finals = watch(mixed, display=display)
    assert describe(display.log) == [
        ("display", 1, "ig_stream_1", 0),
        ("display", 2, "ig_stream_2", 0),
        ("update", 1, "ig_stream_1", 1),
        ("update", 2, "ig_stream_2", None),
        # ig_stream_2's late partial 1 never replaces its final image
        ("update", 1, "ig_stream_1", None),
    ]
    assert [image.id for image in finals] == ["ig_stream_2", "ig_stream_1"]


def test_watch_reads_sdk_event_objects() -> None:
    require_stream_support()

    class Event:
        def __init__(self, data: dict[str, Any]) -> None:
            self.data = data

        def model_dump(self) -> dict[str, Any]:
            return self.data

    display = FakeDisplay()
    finals = watch((Event(e) for e in stream_events()), display=display)
    assert [image.id for image in finals] == ["ig_stream_1"]
    assert len(display.log) == 3


def test_watch_shows_a_failed_item_as_a_card() -> None:
    require_stream_support()
    events = [e for e in stream_events() if e["type"] != "response.completed"]
    failed = json.loads(json.dumps(events[-1]))
    failed["item"].update(id="ig_failed", status="failed", result=None)
    display = FakeDisplay()
    finals = watch([*events, failed], display=display)
    assert [image.id for image in finals] == ["ig_stream_1"]
    card = display.log[-1][2]
    assert isinstance(card, Gallery) and card.problems == 1
    assert "✗ " in card._repr_html_()


def test_watch_with_thumb_shows_captioned_thumbnails() -> None:
    require_stream_support()
    display = FakeDisplay()
    watch(stream_events(), thumb=48, display=display)
    shown = [obj for _, _, obj in display.log]
    assert len(shown) == 3 and all(isinstance(obj, Gallery) for obj in shown)
    assert "partial 0" in shown[0]._repr_html_()  # type: ignore[attr-defined]


def test_watch_over_a_whole_response_shows_each_item() -> None:
    display = FakeDisplay()
    finals = watch(json.loads(GALLERY.read_text()), display=display)
    assert [image.id for image in finals] == [
        "ig_gallery_png",
        "ig_gallery_jpeg",
        "ig_gallery_webp",
    ]
    assert [action for action, _, _ in display.log] == ["display"] * 4
    assert isinstance(display.log[-1][2], Gallery)


def test_watch_uses_ipython_display_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("IPython")
    display = FakeDisplay()
    monkeypatch.setattr("IPython.display.display", display)
    finals = watch(json.loads(GALLERY.read_text()))
    assert len(finals) == 3 and display.slots == 4


def test_watch_outside_a_kernel_without_handles_still_shows_everything() -> None:
    shown: list[object] = []

    def printing(obj: object, *, display_id: bool = False) -> None:
        shown.append(obj)  # IPython outside a kernel prints and returns no handle

    finals = watch(json.loads(GALLERY.read_text()), display=printing)
    assert len(shown) == 4 and len(finals) == 3


def test_watch_without_ipython_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    with pytest.raises(ImportError, match=r"pip install 'imgcall\[notebook\]'"):
        watch([])


def test_watch_propagates_unreadable_input() -> None:
    with pytest.raises(imgcall.InvalidInputError):
        watch("{broken", display=FakeDisplay())


# --- IPython stays optional ----------------------------------------------------------------


def test_import_imgcall_and_display_never_import_ipython() -> None:
    code = f"""
import sys, imgcall
assert "IPython" not in sys.modules, "import imgcall"
imgcall.show, imgcall.watch, imgcall.Gallery
image = imgcall.decode(open({str(FIXTURES_DIR / "items" / "webp.json")!r}).read())
image._repr_mimebundle_()
imgcall.show({str(GALLERY)!r})._repr_html_()
print(sorted(m for m in sys.modules if m.split(".")[0] == "IPython"))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_corrupt_error_is_an_imgcall_error() -> None:
    # The gallery and the bundle catch ImgcallError only; thumbnails must raise nothing else.
    from imgcall.decoding import thumbnail

    with pytest.raises(CorruptImageError):
        thumbnail(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "PNG", 64)


def test_watch_never_replaces_a_final_with_a_late_partial(
    image_bytes: ImageBytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    final = decoded(image_bytes("tiny.png"), id="ig_a")
    early = dataclasses.replace(final, partial_index=0)
    late = dataclasses.replace(final, partial_index=1)
    nameless = Problem(None, None, None, ImageGenerationFailedError("unreadable"))
    sequence: list[DecodedImage | Problem] = [early, final, late, nameless, nameless]
    monkeypatch.setattr("imgcall.extract.iter_images", lambda *a, **k: iter(sequence))
    display = FakeDisplay()
    assert watch([], display=display) == [final]
    assert [(action, slot) for action, slot, _ in display.log] == [
        ("display", 1),
        ("update", 1),
        ("display", 2),
        ("display", 3),
    ]
    assert display.log[1][2].image is final  # type: ignore[attr-defined]


def test_a_broken_json_line_reads_as_its_location_in_the_text_view(tmp_path: Any) -> None:
    good = {"type": "image_generation_call", "id": "ig_1", "status": "failed"}
    source = tmp_path / "batch.jsonl"
    source.write_text(json.dumps(good) + "\n" + '{"id": "cut off\n' + json.dumps(good) + "\n")
    text = repr(show(source))
    (line,) = [x for x in text.splitlines() if "InvalidInputError" in x]
    assert line.startswith(f"  {source}:2")
    assert "None" not in line and "?" not in line


# --- the shared card design (imgcall.cards) ------------------------------------------------


def test_failed_cards_say_what_happened_in_words(
    load_item: Callable[[str], dict[str, Any]],
) -> None:
    html = show([load_item("status_failed"), load_item("truncated_png")])._repr_html_()
    face = re.sub(r' title="[^"]*"', "", html)  # the class name may stay in the tooltip
    assert "Generation failed" in face and "The image is damaged" in face
    assert "Error" not in face


def test_thumbnails_fill_the_card_and_c2pa_has_a_badge() -> None:
    from tests.c2pa_helpers import picture, sign

    signed = decoded(sign(picture("PNG"), "PNG"), id="ig_signed")
    html = show([signed, decoded(picture("PNG"), id="ig_plain")])._repr_html_()
    assert html.count("width:100%;height:100%;object-fit:contain") == 2
    assert html.count(">C2PA</span>") == 1


def test_show_can_leave_out_images_found_by_content() -> None:
    from tests.helpers import b64, png

    value = {"job": {"result": b64(png())}}
    assert repr(show(value)).startswith("<Gallery 1 item: 1 image, 0 problems>")
    assert repr(show(value, discover=False)) == "<Gallery 0 items: 0 images, 0 problems>"
