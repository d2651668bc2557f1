"""`Captioned`: an image shown in a notebook with a caption under it (for `watch`).

The picture is whatever `imgcall.notebook.image_mimebundle` would show (the original
bytes, or a bounded preview), put in an ``<img>`` with a one-line caption: id, size,
format, file size, C2PA, and the prompt, all escaped. Nothing is embedded twice: the
bundle holds the HTML figure and the plain-text repr only.
"""

from __future__ import annotations

import base64
import html
from typing import Any

from .cards import PROMPT_CHARS
from .image import DecodedImage, human_bytes

__all__ = ["Captioned"]

_IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")


class Captioned:
    """``image`` displayed with a caption under it; ``repr()`` is the image's."""

    def __init__(self, image: DecodedImage) -> None:
        self.image = image
        """The image shown."""

    def caption(self) -> str:
        """The caption's text: ``id · 1024x1024 · PNG · 1.9 MB · C2PA — prompt``."""
        image = self.image
        parts = [image.id]
        if image.width and image.height:
            parts.append(f"{image.width}x{image.height}")
        parts += [image.format, human_bytes(image.nbytes)]
        if image.c2pa:
            parts.append("C2PA")
        text = " · ".join(parts)
        prompt = image.context.get("revised_prompt")
        if isinstance(prompt, str) and prompt.strip():
            prompt = " ".join(prompt.split())
            cut = prompt if len(prompt) <= PROMPT_CHARS else prompt[: PROMPT_CHARS - 1] + "…"
            text += f" — {cut}"
        return text

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        from .notebook import image_mimebundle

        data, metadata = image_mimebundle(self.image, exclude=exclude)
        text = data.get("text/plain", repr(self.image))
        picture = ""
        for mime in _IMAGE_MIMES:
            if mime in data:
                raw = data[mime]
                payload = raw.encode("utf-8") if isinstance(raw, str) else raw
                width = (metadata.get(mime) or {}).get("width")
                size = f' width="{int(width)}"' if width else ""
                uri = f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"
                picture = f'<img src="{uri}"{size} alt="" style="max-width:100%;display:block">'
                break
        else:
            note = text.splitlines()[-1] if "\n" in text else "no preview"
            picture = f'<div style="padding:8px;opacity:.8">{html.escape(note)}</div>'
        figure = (
            '<figure style="margin:0;display:inline-block;max-width:100%">'
            f'{picture}<figcaption style="font-family:system-ui,sans-serif;font-size:12px;'
            f'opacity:.8;margin-top:4px;overflow-wrap:anywhere">'
            f"{html.escape(self.caption())}</figcaption></figure>"
        )
        bundle = {"text/html": figure, "text/plain": text}
        wanted = {k: v for k, v in bundle.items() if include is None or k in include}
        return wanted, {}

    def __repr__(self) -> str:
        return repr(self.image)
