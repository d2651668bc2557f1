"""imgcall's gallery: ``write_gallery`` on a run's output folder, timing only the call.

Usage: python imgcall_gallery.py FOLDER [--workers N]; prints {"seconds", "images",
"page_bytes", "items"}. "images" counts the thumbnails made, so the report's images/s
column is thumbnails/s. Thumbnails and page left by an earlier repetition are removed
before the clock starts, so every repetition makes them all.
"""

import json
import shutil
import sys
import time
from pathlib import Path

from imgcall.htmlpage import GALLERY_NAME, write_gallery
from imgcall.thumbs import THUMBS_DIR


def main() -> None:
    folder = Path(sys.argv[1])
    workers = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else None
    shutil.rmtree(folder / THUMBS_DIR, ignore_errors=True)
    (folder / GALLERY_NAME).unlink(missing_ok=True)
    start = time.perf_counter()
    report = write_gallery(folder, workers=workers)
    seconds = time.perf_counter() - start
    info = {
        "seconds": seconds,
        "images": report.thumbnails_made,
        "page_bytes": report.path.stat().st_size,
        "items": report.items,
    }
    print(json.dumps(info))


if __name__ == "__main__":
    main()
