"""imgcall: turn the base64 images that generation APIs send back into real image files.

>>> import imgcall
>>> image = imgcall.decode(item)                  # one image_generation_call item
>>> image.save("out/")                            # PosixPath('out/ig_123.png')
>>> for image in imgcall.iter_images("batch_output.jsonl", errors="collect"):
...     print(image)

Public names are loaded on first use, so ``import imgcall`` (and ``imgcall --version``)
stays fast; the names and their modules are listed in ``_EXPORTS``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .decoding import Limits, decode
    from .errors import (
        CorruptImageError,
        EmptyResultError,
        EngineError,
        ImageGenerationFailedError,
        ImageNotReadyError,
        ImageTooLargeError,
        ImgcallError,
        ImgcallWarning,
        InvalidBase64Error,
        InvalidInputError,
        InvalidItemError,
        OutputError,
        OutputExistsError,
        OutputLockedError,
        Problem,
        UnsupportedImageError,
        UnsupportedResultError,
    )
    from .extract import iter_images
    from .gallery import Gallery, show
    from .htmlpage import GalleryReport, write_gallery
    from .image import DecodedImage
    from .items import ImageGenerationStatus, Location
    from .models import ImageGenerationCall, parse_call
    from .notebook import watch
    from .objectstore import ObjectPath
    from .provenance import Provenance, read_provenance
    from .records import ItemRecord, SaveReport
    from .saving import iter_save, save_images
    from .scan import iter_calls

_EXPORTS: dict[str, str] = {
    "CorruptImageError": "errors",
    "DecodedImage": "image",
    "EmptyResultError": "errors",
    "EngineError": "errors",
    "Gallery": "gallery",
    "GalleryReport": "htmlpage",
    "ImageGenerationCall": "models",
    "ImageGenerationFailedError": "errors",
    "ImageGenerationStatus": "items",
    "ImageNotReadyError": "errors",
    "ImageTooLargeError": "errors",
    "ImgcallError": "errors",
    "ImgcallWarning": "errors",
    "InvalidBase64Error": "errors",
    "InvalidInputError": "errors",
    "InvalidItemError": "errors",
    "ItemRecord": "records",
    "Limits": "decoding",
    "Location": "items",
    "ObjectPath": "objectstore",
    "OutputError": "errors",
    "OutputExistsError": "errors",
    "OutputLockedError": "errors",
    "Problem": "errors",
    "Provenance": "provenance",
    "SaveReport": "records",
    "UnsupportedImageError": "errors",
    "UnsupportedResultError": "errors",
    "decode": "decoding",
    "iter_calls": "scan",
    "iter_images": "extract",
    "iter_save": "saving",
    "parse_call": "models",
    "read_provenance": "provenance",
    "save_images": "saving",
    "show": "gallery",
    "watch": "notebook",
    "write_gallery": "htmlpage",
}

__all__ = [
    "CorruptImageError",
    "DecodedImage",
    "EmptyResultError",
    "EngineError",
    "Gallery",
    "GalleryReport",
    "ImageGenerationCall",
    "ImageGenerationFailedError",
    "ImageGenerationStatus",
    "ImageNotReadyError",
    "ImageTooLargeError",
    "ImgcallError",
    "ImgcallWarning",
    "InvalidBase64Error",
    "InvalidInputError",
    "InvalidItemError",
    "ItemRecord",
    "Limits",
    "Location",
    "ObjectPath",
    "OutputError",
    "OutputExistsError",
    "OutputLockedError",
    "Problem",
    "Provenance",
    "SaveReport",
    "UnsupportedImageError",
    "UnsupportedResultError",
    "__version__",
    "decode",
    "iter_calls",
    "iter_images",
    "iter_save",
    "parse_call",
    "read_provenance",
    "save_images",
    "show",
    "watch",
    "write_gallery",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'imgcall' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
