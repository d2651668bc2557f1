"""One fuzz target under atheris / libFuzzer: ``python -m tests.fuzz.atheris_main NAME ...``.

Started by `tests.fuzz.run`; the arguments after the target name are libFuzzer's.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    import imgcall  # noqa: F401 - instrumented for coverage guidance

from tests.fuzz.targets import TARGETS


def main() -> None:
    name = sys.argv.pop(1)
    atheris.Setup(sys.argv, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
