"""The one card renderer behind the notebook's show() and the gallery page."""

from __future__ import annotations

import re

import pytest

from imgcall.cards import Card, failure_words, render_card, stylesheet


def card(**fields: object) -> Card:
    base: dict[str, object] = {"id": "ig_1", "status": "completed"}
    base.update(fields)
    return Card(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error_type", "code", "reason", "words"),
    [
        (
            "ImageGenerationFailedError",
            "moderation_blocked",
            "rejected",
            "Blocked by the provider's safety system",
        ),
        (
            "ImageGenerationFailedError",
            "IMAGE_SAFETY",
            None,
            "Blocked by the provider's safety system",
        ),
        (
            "ImageGenerationFailedError",
            None,
            "Your request was rejected by the safety system.",
            "Blocked by the provider's safety system",
        ),
        ("ImageGenerationFailedError", "server_error", "oops", "Generation failed"),
        ("CorruptImageError", None, "PNG chunk IDAT fails its CRC check", "The image is damaged"),
        ("InvalidBase64Error", None, "bad character", "The image data is garbled"),
        ("ImageNotReadyError", None, None, "Not finished yet"),
        (None, None, None, "Not saved"),
        ("SomethingNew", None, None, "Not saved"),
    ],
)
def test_failures_are_said_in_words(
    error_type: str | None, code: str | None, reason: str | None, words: str
) -> None:
    assert failure_words(error_type, code, reason) == words


def test_the_same_card_in_both_outputs() -> None:
    item = card(
        format="PNG",
        width=1024,
        height=768,
        nbytes=1_900_000,
        prompt="a cat",
        c2pa=True,
        custom_id="req-7",
        thumb="t.jpg",
        href="ig_1.png",
    )
    page = render_card(item, inline=False)
    notebook = render_card(item, inline=True, box_px=192)
    strip = lambda html: re.sub(r' (class|style)="[^"]*"', "", html)  # noqa: E731
    assert strip(page) == strip(notebook).replace(";height:192px", "")
    assert "style=" not in page and 'class="ic-card"' in page
    assert "class=" not in notebook and "height:192px" in notebook
    for text in (
        "ig_1",
        "1024x768 · 1.9 MB",
        ">C2PA<",
        "req-7",
        "a cat",
        'href="ig_1.png"',
        'src="t.jpg"',
    ):
        assert text in page


def test_every_field_is_escaped() -> None:
    evil = '"><script>alert(1)</script>'
    html = render_card(
        card(
            id=evil,
            status=evil,
            prompt=evil,
            custom_id=evil,
            location=evil,
            failed=True,
            headline=evil,
            reason=evil,
            error_code=evil,
            error_type=evil,
            warnings=(evil,),
        ),
        inline=False,
    )
    assert "<script" not in html and evil not in html
    assert html.count("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;") >= 6


def test_long_fields_are_cut() -> None:
    html = render_card(card(id="i" * 5000, prompt="p " * 5000, custom_id="c" * 5000), inline=False)
    assert len(html) < 2500


def test_a_completed_image_needs_no_badge_but_other_statuses_have_one() -> None:
    assert "ic-badge" not in render_card(card(), inline=False)
    assert "<span hidden>completed</span>" in render_card(card(), inline=False)
    generating = render_card(card(status="generating"), inline=False)
    assert 'class="ic-badge ic-warn">generating<' in generating


def test_the_stylesheet_covers_every_class_the_cards_use() -> None:
    html = render_card(
        card(failed=True, headline="x", reason="y", error_code="z", c2pa=True, status="failed"),
        inline=False,
    )
    html += render_card(card(thumb="a.jpg", href="a.png", custom_id="c", prompt="p"), inline=False)
    css = stylesheet()
    used = {c for attr in re.findall(r'class="([^"]+)"', html) for c in attr.split()}
    assert used and all(f".{name}" in css for name in used)
