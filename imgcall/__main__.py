"""Run the command line with ``python -m imgcall``."""

from .cli import main

main()
