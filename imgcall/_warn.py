"""`warn_caller`: a Python warning that points at the user's line, not into imgcall.

A fixed ``stacklevel`` is right for one call path only: `decode` reaches the warning
through two frames, `iter_images` through a generator, `show` through a few more. This
counts the frames that belong to the package and points just past them, so a warning
always names the line of the caller's code that asked for the image.
"""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType

from .errors import ImgcallWarning

__all__ = ["warn_caller"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_caller(message: str, category: type[Warning] = ImgcallWarning) -> None:
    """Emit ``message`` as a warning attributed to the first frame outside imgcall."""
    level = 2  # stacklevel 2 is this function's caller
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        level += 1
        frame = frame.f_back
    warnings.warn(message, category, stacklevel=level)
