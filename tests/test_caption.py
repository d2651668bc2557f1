"""Captioned: watch()'s final image, with a caption under it."""

from __future__ import annotations

import base64

from imgcall import decode
from imgcall.caption import Captioned

from .helpers import item, png


def test_the_caption_says_what_the_image_is_and_escapes_the_prompt() -> None:
    image = decode(item("ig_<1>", png(size=(40, 30)), revised_prompt="<b>a red</b> square"))
    data, metadata = Captioned(image)._repr_mimebundle_()
    assert set(data) == {"text/html", "text/plain"} and metadata == {}
    html = data["text/html"]
    assert f'src="data:image/png;base64,{base64.b64encode(image.data).decode()}"' in html
    assert "ig_&lt;1&gt; · 40x30 · PNG · " in html and "&lt;b&gt;a red&lt;/b&gt; square" in html
    assert "<b>" not in html and data["text/plain"] == repr(image) == repr(Captioned(image))


def test_a_front_end_that_wants_text_gets_text() -> None:
    image = decode(item("ig_1", png()))
    data, _ = Captioned(image)._repr_mimebundle_(include={"text/plain"})
    assert data == {"text/plain": repr(image)}
