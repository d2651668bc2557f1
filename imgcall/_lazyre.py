"""Regular expressions compiled on first use, not at import.

Compiling a pattern costs ~0.1 ms; a dozen rarely used ones were ~1 ms of every start
(issue 15), though most runs never match against them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import AnyStr

__all__ = ["lazy_pattern"]


def lazy_pattern(pattern: AnyStr, flags: int = 0) -> Callable[[], re.Pattern[AnyStr]]:
    """A getter for ``re.compile(pattern, flags)``, compiled on its first call."""
    return functools.cache(lambda: re.compile(pattern, flags))
