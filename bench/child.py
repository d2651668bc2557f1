"""Run one benchmark variant and report its own peak memory.

Linux carries a parent's peak RSS into its children across fork and exec, so
``ru_maxrss`` from ``wait4`` measures the harness, not the variant. This wrapper records
``VmHWM`` (the peak of the variant's own address space) at exit into the file named by
``IMGCALL_BENCH_RSS``. It imports nothing heavy, so it costs what ``python x.py`` costs.

    python bench/child.py script PATH ARGS...   # run a script as __main__
    python bench/child.py imgcall ARGS...       # run the imgcall console script
    python bench/child.py code SOURCE           # like python -c SOURCE
"""

import atexit
import os
import runpy
import sys


def _report() -> None:
    target = os.environ.get("IMGCALL_BENCH_RSS")
    if not target:
        return
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                with open(target, "w") as out:
                    out.write(str(int(line.split()[1]) / 1024))
                return


def main() -> None:
    atexit.register(_report)
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "script":
        sys.argv = args
        runpy.run_path(args[0], run_name="__main__")
    elif mode == "imgcall":
        sys.argv = ["imgcall", *args]
        try:  # what the console script runs
            from imgcall._entry import main as imgcall_main
        except ImportError:  # an older checkout measured beside this one (bench/providers.py)
            from imgcall.cli import main as imgcall_main

        imgcall_main()
    elif mode == "code":
        exec(compile(args[0], "<string>", "exec"), {"__name__": "__main__"})
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
