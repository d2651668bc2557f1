"""The SVG allow-list: what a notebook shows live, on the real display path.

Every attack is checked where it matters, ``_repr_mimebundle_()["image/svg+xml"]``, and
through `svg_problem` for the reason. The bypasses are those of issue 13 (the old
block-list let 13 of 16 through); the classic attacks are the ones it did block.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from imgcall import DecodedImage, decode
from imgcall.svgsafe import MAX_ELEMENTS, UnsafeSVG, live_svg, svg_problem

from .conftest import IMAGES_DIR

SVG_NS = "http://www.w3.org/2000/svg"
_SVG = (
    f'<svg xmlns="{SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'width="8" height="8">{}</svg>'
)


def bundle(markup: str | bytes) -> dict[str, Any]:
    """What a notebook gets for ``markup``: the display bundle of an SVG image."""
    data = markup.encode() if isinstance(markup, str) else markup
    # Built directly, as a caller may: the display must not rely on decode's checks.
    image = DecodedImage(
        id="ig_svg", status="completed", data=data, format="SVG", width=None, height=None
    )
    shown, _ = image._repr_mimebundle_()
    return shown


def assert_refused(markup: str, why: str) -> None:
    shown = bundle(markup)
    assert "image/svg+xml" not in shown, f"shown live: {markup}"
    assert "SVG not shown live" in shown["text/plain"]
    problem = svg_problem(markup.encode())
    assert problem is not None and why.lower() in problem.lower(), problem


# --- ordinary SVGs stay live ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '<path d="M0 0L8 8Z" fill="#36c" stroke="black" stroke-width=".5"/>',
        '<defs><linearGradient id="g" x2="1"><stop offset="0" stop-color="red"/>'
        '<stop offset="1" stop-color="rgb(0, 0, 255)"/></linearGradient></defs>'
        '<rect width="8" height="8" fill="url(#g)"/>',
        '<defs><radialGradient id="r"><stop offset=".5" stop-color="hsl(120,50%,50%)"/>'
        "</radialGradient></defs><circle cx='4' cy='4' r='4' fill=\"url('#r')\"/>",
        '<g transform="translate(1, 2) rotate(45) scale(.5)"><rect width="2" height="2"/></g>',
        '<text x="1" y="6" font-family="\'Open Sans\', sans-serif" font-size="4">Hi &amp; '
        "&lt;you&gt;<tspan dy='1'>!</tspan></text>",
        '<use href="#r"/><rect id="r" width="2" height="2"/>',
        '<use xlink:href="#r"/><rect id="r" width="2" height="2" style="fill:url(#g)"/>',
        '<image href="data:image/png;base64,iVBORw0KGgo=" width="8" height="8"/>',
        "<!-- a comment --><title>A square</title><desc>4 &lt; 5</desc>"
        "<rect width='8' height='8'/>",
        "<style>rect { fill: #c33; } .a > .b, #c:hover { stroke: blue !important }</style>"
        "<rect width='8' height='8'/>",
        "<style><![CDATA[ rect { fill: #c33 } ]]></style><rect width='8' height='8'/>",
        '<defs><filter id="f"><feGaussianBlur stdDeviation="1"/></filter>'
        '<clipPath id="c"><circle r="3"/></clipPath><mask id="m"><rect width="8" height="8" '
        'fill="white"/></mask></defs>'
        '<rect width="8" height="8" filter="url(#f)" clip-path="url(#c)" mask="url(#m)"/>',
        '<rect width="8" height="8"><animate attributeName="opacity" values="0;1;0" dur="2s" '
        'repeatCount="indefinite"/><set attributeName="fill" to="url(#g)" begin="1s"/></rect>',
        '<svg x="1" viewBox="0 0 4 4" preserveAspectRatio="xMidYMid meet"><rect width="4" '
        'height="4" aria-label="Chart (2024)"/></svg>',
    ],
)
def test_ordinary_svg_is_shown_live(body: str) -> None:
    markup = _SVG.format(body)
    assert svg_problem(markup.encode()) is None
    assert bundle(markup)["image/svg+xml"] == live_svg(markup.encode())


def test_the_bundled_fixture_is_shown_live() -> None:
    data = (IMAGES_DIR / "tiny.svg").read_bytes()
    image = decode(
        {
            "type": "image_generation_call",
            "id": "ig",
            "status": "completed",
            "result": base64.b64encode(data).decode(),
        }
    )
    shown, _ = image._repr_mimebundle_()
    assert shown["image/svg+xml"].startswith(f'<svg xmlns="{SVG_NS}" width="16" height="12"')
    assert '<circle cx="8" cy="6" r="4" fill="#fff"/>' in shown["image/svg+xml"]


def test_svg_without_a_namespace_is_written_out_in_the_svg_namespace() -> None:
    assert live_svg(b"<svg width='2' height='2'><rect width='2' height='2'/></svg>") == (
        f'<svg xmlns="{SVG_NS}" width="2" height="2"><rect width="2" height="2"/></svg>'
    )


def test_what_is_shown_is_the_checked_parse_written_out_again() -> None:
    markup = _SVG.format(
        '<!--><img src=x onerror=alert(1)>--><text x="1" aria-label="a&quot;b&#10;c">'
        "<![CDATA[</text><img src=x onerror=alert(2)>]]></text>"
    )
    shown = live_svg(markup.encode())
    # An HTML parser ends a comment at "<!-->" and has no CDATA outside foreign content:
    # the original text would break out; the written-out parse is inert text.
    assert "<img" not in shown and "<!--" not in shown and "CDATA" not in shown
    assert "&lt;/text&gt;&lt;img src=x onerror=alert(2)&gt;" in shown
    assert 'aria-label="a&quot;b&#10;c"' in shown
    assert live_svg(shown.encode()) == shown  # a fixed point


# --- the bypasses that reached the notebook (issue 13) -----------------------------------


@pytest.mark.parametrize(
    ("markup", "why"),
    [
        (
            f'<svg xmlns="{SVG_NS}" xmlns:s="{SVG_NS}"><s:script>alert(1)</s:script></svg>',
            "s:script",
        ),
        (
            f'<svg xmlns="{SVG_NS}" xmlns:s="{SVG_NS}"><s:foreignObject><div/></s:foreignObject>'
            "</svg>",
            "s:foreignObject",
        ),
        (
            f'<svg xmlns="{SVG_NS}" xmlns:s="{SVG_NS}"><s:iframe src="https://evil.example/"/>'
            "</svg>",
            "s:iframe",
        ),
        (
            '<?xml-stylesheet href="https://evil.example/x.css"?>' + _SVG.format(""),
            "processing instruction",
        ),
        (_SVG.format('<rect width="8" fill="url(https://evil.example/p)"/>'), "url()"),
        (_SVG.format('<rect width="8" filter="url(https://evil.example/f#x)"/>'), "url()"),
        (_SVG.format('<rect width="8" mask="url(//evil.example/m)"/>'), "url()"),
        (_SVG.format('<rect width="8" cursor="url(https://evil.example/c), auto"/>'), "url()"),
        (_SVG.format("<style>rect { fill: u\\rl(https://evil.example/p) }</style>"), "escape"),
        (_SVG.format("<style>@\\69mport 'https://evil.example/x.css';</style>"), "escape"),
        (
            _SVG.format('<rect width="8" style="fill: image-set(\'https://evil.example/p\' 1x)"/>'),
            "image-set",
        ),
        (
            _SVG.format('<set attributeName="fill" to="url(https://evil.example/p)"/>'),
            "url()",
        ),
        (
            _SVG.format(
                '<rect width="8"><animate attributeName="fill" '
                'values="red;url(https://evil.example/p)"/></rect>'
            ),
            "url()",
        ),
        (_SVG.format('<rect width="8" fill="&#117;rl(https://evil.example/p)"/>'), "url()"),
        (_SVG.format('<rect width="8" fill="URL(https://evil.example/p)"/>'), "url()"),
        (_SVG.format('<rect width="8" style="fill:url(#a) url(https://e.example/p)"/>'), "url"),
    ],
)
def test_issue_13_bypasses_are_refused(markup: str, why: str) -> None:
    assert_refused(markup, why)


# --- the classic attacks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "why"),
    [
        (_SVG.format("<script>alert(1)</script>"), "<script>"),
        (_SVG.format("<SCRIPT >alert(1)</SCRIPT>"), "<SCRIPT>"),
        (f'<svg xmlns="{SVG_NS}" onload="alert(1)"/>', "onload"),
        (_SVG.format('<rect width="8" height="8" ONclick="alert(1)"/>'), "ONclick"),
        (_SVG.format('<a href="javascript:alert(1)"><rect width="8"/></a>'), "links outside"),
        (_SVG.format('<a href="java&#115;cript:alert(1)"><rect width="8"/></a>'), "links"),
        (_SVG.format('<a href="https://evil.example/"><rect width="8"/></a>'), "links outside"),
        (_SVG.format('<image xlink:href="http://evil.example/x.png"/>'), "links outside"),
        (_SVG.format('<use href="other.svg#x"/>'), "links outside"),
        (_SVG.format('<use href="https://evil.example/s.svg#x"/>'), "links outside"),
        (_SVG.format('<image href="data:text/html,&lt;script&gt;"/>'), "links outside"),
        (_SVG.format('<image href="data:image/svg+xml;base64,PHN2Zz4="/>'), "links outside"),
        (_SVG.format('<use href="data:image/png;base64,iVBORw0KGgo="/>'), "links outside"),
        (_SVG.format("<foreignObject><div>hi</div></foreignObject>"), "foreignObject"),
        (_SVG.format('<iframe src="https://evil.example/"/>'), "iframe"),
        (_SVG.format('<embed src="https://evil.example/"/>'), "embed"),
        (_SVG.format('<object data="https://evil.example/"/>'), "object"),
        (_SVG.format('<set attributeName="href" to="javascript:alert(1)"/>'), "animates"),
        (_SVG.format('<animate attributeName="xlink:href" values="#a;#b"/>'), "animates"),
        (_SVG.format("<style>@import 'https://evil.example/x.css';</style>"), "at-rule"),
        (_SVG.format("<style>rect { fill: url(https://evil.example/p) }</style>"), "url()"),
        (_SVG.format('<rect style="fill:url(http://evil.example/p)"/>'), "url()"),
        (_SVG.format('<rect style="behavior: url(#x)"/>'), "behavior"),
        (_SVG.format('<rect style="-moz-binding: url(#x)"/>'), "-moz-binding"),
        (_SVG.format('<rect style="fill: expression(alert(1))"/>'), "expression"),
        (_SVG.format("<style>rect { fill: red } /* x */</style>"), "comment"),
        (_SVG.format("<style>rect { fill: red }</style><style>a { --x: 1 }</style>"), "--x"),
        (
            f'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="{SVG_NS}">&a;</svg>',
            "DOCTYPE",
        ),
        (
            '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
            f'<svg xmlns="{SVG_NS}"><text>&c;</text></svg>',
            "DOCTYPE",
        ),
        (
            f'<!DOCTYPE svg SYSTEM "file:///etc/passwd"><svg xmlns="{SVG_NS}"/>',
            "DOCTYPE",
        ),
        (f'<svg xmlns="{SVG_NS}"><text>&unknown;</text></svg>', "well-formed"),
        ('<!ENTITY x SYSTEM "file:///etc/passwd"><svg/>', "well-formed"),
        (f"<svg xmlns='{SVG_NS}'><rect>", "well-formed"),
        (f"<svg xmlns='{SVG_NS}'><!-- a --!> --></svg>", "well-formed"),
    ],
)
def test_classic_attacks_are_refused(markup: str, why: str) -> None:
    assert_refused(markup, why)


# --- namespace games, links by another name, and expansion --------------------------------


@pytest.mark.parametrize(
    ("markup", "why"),
    [
        # The same local name in another namespace: an HTML parser would see <script>.
        (_SVG.format('<script xmlns="urn:x">alert(1)</script>'), "urn:x"),
        (f'<svg xmlns="{SVG_NS}" xmlns:h="http://www.w3.org/1999/xhtml"><h:img/></svg>', "h:img"),
        # xlink's prefix bound elsewhere: XML reads urn:x, an HTML parser reads xlink:href.
        (
            f'<svg xmlns="{SVG_NS}" xmlns:xlink="urn:x"><a xlink:href="javascript:alert(1)"/>'
            "</svg>",
            "xlink:href",
        ),
        # xlink's namespace under another prefix: written out as xlink:href it would link.
        (
            f'<svg xmlns="{SVG_NS}" xmlns:l="http://www.w3.org/1999/xlink">'
            '<a l:href="https://evil.example/"/></svg>',
            "prefix 'l'",
        ),
        (_SVG.format('<g xml:base="https://evil.example/"><use href="#a"/></g>'), "xml:base"),
        (_SVG.format('<rect width="8" inkscape:label="x" xmlns:inkscape="urn:i"/>'), "label"),
        ('<html xmlns="http://www.w3.org/1999/xhtml"/>', "html"),
        (f'<g xmlns="{SVG_NS}"/>', "root element"),
        (_SVG.format('<rect width="8" fill="var(--x)"/>'), "var()"),
        (_SVG.format('<rect width="8" fill="attr(x)"/>'), "attr()"),
        (_SVG.format('<a href="#x" target="_top"/>'), "target"),
        (_SVG.format("<style><rect/></style>"), "holds an element"),
        (_SVG.format('<style type="text/javascript">a{}</style>'), "text/css"),
    ],
)
def test_namespace_and_link_games_are_refused(markup: str, why: str) -> None:
    assert_refused(markup, why)


def test_nested_use_cannot_grow_exponentially() -> None:
    layers = ['<g id="l0"><rect width="1" height="1"/></g>']
    for k in range(1, 12):
        refs = f'<use href="#l{k - 1}"/>' * 10
        layers.append(f'<g id="l{k}">{refs}</g>')
    assert_refused(_SVG.format("<defs>" + "".join(layers) + "</defs>"), "holds a <use>")


def test_use_cycles_are_refused() -> None:
    assert_refused(_SVG.format('<g id="a"><use href="#a"/></g>'), "holds a <use>")


def test_flat_use_is_counted_against_the_element_cap() -> None:
    block = "<g id='big'>" + "<rect width='1' height='1'/>" * 1000 + "</g>"
    uses = "<use href='#big'/>" * (MAX_ELEMENTS // 1000)
    assert_refused(_SVG.format(block + uses), "elements, over")
    assert svg_problem(_SVG.format(block + uses[: len(uses) // 2]).encode()) is None


def test_deep_nesting_is_refused_without_recursion() -> None:
    depth = 5000
    assert_refused(_SVG.format("<g>" * depth + "</g>" * depth), "nest deeper")


def test_non_utf8_svg_is_refused() -> None:
    problem = svg_problem(f"<svg xmlns='{SVG_NS}'>".encode() + b"\xff\xfe</svg>")
    assert problem is not None and "well-formed" in problem


def test_live_svg_raises_unsafe_svg_a_value_error() -> None:
    with pytest.raises(UnsafeSVG, match="script") as info:
        live_svg(_SVG.format("<script/>").encode())
    assert isinstance(info.value, ValueError)


def test_more_elements_than_the_cap_are_refused_while_parsing() -> None:
    many = "<g/>" * (MAX_ELEMENTS + 1)
    assert_refused(_SVG.format(many), "more than 200,000 elements")
