"""Baseline (b): the same script through Pillow: Image.open(...).save(...).

Usage: python naive_pil.py INPUT OUT_DIR [--jsonl]; prints {"seconds", "images"} as JSON.
"""

import base64
import io
import json
import os
import sys
import time

from PIL import Image


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    jsonl = "--jsonl" in sys.argv
    start = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    count = 0

    def handle(response: dict) -> None:
        nonlocal count
        for item in response.get("output", []):
            if item.get("type") == "image_generation_call" and item.get("result"):
                image = Image.open(io.BytesIO(base64.b64decode(item["result"])))
                image.save(os.path.join(out, item["id"] + ".png"))
                count += 1

    with open(src) as fh:
        if jsonl:
            for line in fh:
                handle(json.loads(line)["response"]["body"])
        else:
            handle(json.load(fh))
    print(json.dumps({"seconds": time.perf_counter() - start, "images": count}))


if __name__ == "__main__":
    main()
