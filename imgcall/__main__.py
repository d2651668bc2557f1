"""Run the command line with ``python -m imgcall``."""

from ._entry import main

main()
