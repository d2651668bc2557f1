"""The command line's options for large runs: ``--engine``, ``--dask-scheduler``,
``--storage-option``, and an ``-o`` that may be a URL in object storage.

Kept out of `imgcall.cli` so that the command stays readable; `scale_options` adds the
options to ``extract``, and the helpers turn their values into the library's arguments.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from .objectstore import ObjectPath

__all__ = [
    "out_folder",
    "parse_storage_options",
    "scale_options",
    "storage_option",
    "workers_for",
]

F = TypeVar("F", bound=Callable[..., Any])


_STORAGE_OPTION = click.option(
    "--storage-option",
    "storage_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An fsspec option for URLs (s3://...), e.g. anon=true or "
    'client_kwargs=\'{"endpoint_url": "http://..."}\'; repeatable. VALUE is read '
    "as JSON when it is JSON.",
)


def storage_option(command: F) -> F:
    """Add ``--storage-option`` alone (commands that read or write URLs)."""
    return _STORAGE_OPTION(command)


def scale_options(command: F) -> F:
    """Add ``--engine``, ``--dask-scheduler`` and ``--storage-option`` to a command."""
    options = [
        click.option(
            "--engine",
            type=click.Choice(["threads", "processes", "dask"]),
            default="threads",
            show_default=True,
            help="Where the work runs: threads here, processes on every core of this "
            "machine, or tasks on a Dask cluster. Every engine writes the same files.",
        ),
        click.option(
            "--dask-scheduler",
            metavar="ADDRESS",
            help="The Dask scheduler for --engine dask (tcp://host:8786); by default "
            "Dask's own configuration, else a local cluster.",
        ),
        _STORAGE_OPTION,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def parse_storage_options(values: Sequence[str]) -> dict[str, Any] | None:
    """``--storage-option KEY=VALUE`` values as fsspec options (JSON values as JSON)."""
    options: dict[str, Any] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="'--storage-option'")
        try:
            options[key] = json.loads(text)
        except ValueError:
            options[key] = text
    return options or None


def out_folder(value: str) -> Path | ObjectPath:
    """``-o``: a local folder, or a URL in object storage (kept as it is)."""
    from .objectstore import ObjectPath, is_output_url

    if is_output_url(value):
        return ObjectPath(value)
    return Path(value[7:] if value.startswith("file://") else value)


def workers_for(jobs: int | None, engine: str, cpus: int | None) -> int:
    """``-j``: 1 thread by default; every core by default for processes and Dask; 0 is
    one per CPU."""
    if jobs is None:
        jobs = 1 if engine == "threads" else 0
    return jobs or cpus or 1
