"""The ``imgcall`` command line: a thin adapter over the library.

Library modules are imported inside the commands, so ``imgcall --version`` and
``--help`` start fast.
"""

from __future__ import annotations

import click

from . import __version__

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="imgcall")
def cli() -> None:
    """Turn the base64 images that generation APIs return into real image files."""


def main() -> None:
    """Entry point for the console script and ``python -m imgcall``."""
    cli(prog_name="imgcall")
