"""imgcall's library: ``save_images`` on one input, timing only the call.

Usage: python imgcall_lib.py INPUT OUT_DIR [--check fast]; prints {"seconds", "images"}.
"""

import importlib
import json
import pkgutil
import sys
import time

import imgcall

# Import every module first: the baselines' clocks start after their imports too.
for module in pkgutil.iter_modules(imgcall.__path__):
    if module.name not in ("__main__", "notebook", "gallery"):
        importlib.import_module(f"imgcall.{module.name}")


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    check = sys.argv[sys.argv.index("--check") + 1] if "--check" in sys.argv else "fast"
    start = time.perf_counter()
    report = imgcall.save_images(src, out, check=check)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "images": len(report.saved)}))


if __name__ == "__main__":
    main()
