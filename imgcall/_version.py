"""The package version, read by hatchling at build time and by ``imgcall.__version__``.

Kept in a file of its own so that ``imgcall --version`` needs no importlib.metadata
(which costs more than the rest of the command's start-up).
"""

__version__ = "0.1.0"
