"""Reading SDK objects (openai-python and other pydantic models) as the JSON they came from.

An SDK model knows which fields the API sent (pydantic's ``model_fields_set``); a plain
``model_dump()`` adds every other field of the model as ``None`` (openai's
``ImageGenerationCall`` gains ``error`` and ``svg_usage``), so an item read from an SDK
object would no longer round-trip. `dump_sdk` asks for the fields that were set, under
their API names, and falls back to the plain call for objects whose ``model_dump`` takes
no such arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["dump_sdk"]


def dump_sdk(method: str, fn: Callable[..., Any]) -> Any:
    """Call an SDK object's ``model_dump`` / ``to_dict`` (``fn``) for what the API sent."""
    if method == "model_dump":
        try:
            return fn(exclude_unset=True, by_alias=True)
        except TypeError:  # not pydantic's signature: a model_dump() of its own
            pass
    # openai's to_dict() already leaves out unset fields and uses the API's names.
    return fn()
