"""OpenRouter's server-tool item ``openrouter:image_generation``.

It carries the image as ``imageB64`` (or ``result``), or only as ``imageUrl``; a URL is
reported as a problem saying where the image is, never fetched. OpenRouter's other
shapes (Responses, chat completions with ``images[]``, Images API bodies) are OpenAI's
and are read by `imgcall.providers.openai`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..items import Location
from ._base import Found, Reader, base_id, is_url, synthetic

__all__ = ["SERVER_TOOL", "SERVER_TOOL_DATA", "ServerTool", "server_tool", "server_tool_id"]

SERVER_TOOL = "openrouter:image_generation"
SERVER_TOOL_DATA = ("imageB64", "image_b64", "result", "imageUrl", "image_url")


class ServerTool(Reader):
    """An ``openrouter:image_generation`` item on its own."""

    types = (SERVER_TOOL,)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        yield server_tool(value, location, context, 0)


def server_tool_id(
    value: Mapping[str, Any], location: Location, context: Mapping[str, Any], index: int
) -> str:
    """The item's own id, or ``<response id>-img<index>``."""
    own = value.get("id")
    return own if isinstance(own, str) and own else f"{base_id(context, location)}-img{index}"


def server_tool(
    value: Mapping[str, Any], location: Location, context: Mapping[str, Any], index: int
) -> Found:
    """An ``openrouter:image_generation`` item: ``imageB64``, ``result`` or ``imageUrl``."""
    sid = server_tool_id(value, location, context, index)
    extra = {
        "revised_prompt": value.get("revisedPrompt", value.get("revised_prompt")),
        "prompt": value.get("prompt"),
        "output_format": value.get("output_format"),
    }
    candidates = [(key, value.get(key)) for key in SERVER_TOOL_DATA]
    present = [(key, data) for key, data in candidates if isinstance(data, str) and data]
    inline = [(key, data) for key, data in present if not is_url(data)]
    if inline or present:
        key, data = (inline or present)[0]
        return synthetic(sid, data, location.child(key), context, extra=extra)
    status = value.get("status")
    if value.get("error") is not None:
        status, extra["error"] = "failed", value.get("error")
    status = status if isinstance(status, str) and status else "in_progress"
    return synthetic(sid, None, location, context, status=status, extra=extra)
