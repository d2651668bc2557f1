"""Baseline (c), the floor: copy the already-decoded image files into a fresh folder.

Usage: python floor_copy.py DECODED_DIR OUT_DIR; prints {"seconds", "images"} as JSON.
"""

import json
import os
import shutil
import sys
import time


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    start = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    count = 0
    for name in sorted(os.listdir(src)):
        shutil.copyfile(os.path.join(src, name), os.path.join(out, name))
        count += 1
    print(json.dumps({"seconds": time.perf_counter() - start, "images": count}))


if __name__ == "__main__":
    main()
