"""Baseline (t): the tuned script a competent user writes: orjson + pybase64 + write.

Usage: python tuned.py INPUT OUT_DIR [--jsonl | --sse]; prints {"seconds", "images"} as
JSON, timing only the work (not the interpreter start).

What a user who cares about speed writes in twenty lines: orjson to parse (a whole
document at once, JSON Lines a line at a time from a binary file), pybase64 with its
validating fast path, and a plain ``open(..., "wb").write``. It checks nothing (no
format, no truncation, no atomic write, no manifest), so it is a bar, not a peer.
"""

import json
import os
import sys
import time

import orjson
import pybase64


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    jsonl, sse = "--jsonl" in sys.argv, "--sse" in sys.argv
    start = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    count = 0

    def save(name: str, b64: str) -> None:
        nonlocal count
        with open(os.path.join(out, name + ".png"), "wb") as fh:
            fh.write(pybase64.b64decode(b64, validate=True))
        count += 1

    def handle(response: dict) -> None:
        for item in response.get("output", []):
            if item.get("type") == "image_generation_call" and item.get("result"):
                save(item["id"], item["result"])

    with open(src, "rb") as fh:
        if jsonl:
            for line in fh:
                handle(orjson.loads(line)["response"]["body"])
        elif sse:
            # Finals from output_item.done, partials by index; response.completed repeats
            # the finals, which are already saved.
            for line in fh:
                if not line.startswith(b"data: "):
                    continue
                event = orjson.loads(line[6:])
                kind = event.get("type")
                if kind == "response.output_item.done":
                    item = event["item"]
                    if item.get("type") == "image_generation_call" and item.get("result"):
                        save(item["id"], item["result"])
                elif kind == "response.image_generation_call.partial_image":
                    name = f"{event['item_id']}.partial{event['partial_image_index']}"
                    save(name, event["partial_image_b64"])
        else:
            handle(orjson.loads(fh.read()))
    print(json.dumps({"seconds": time.perf_counter() - start, "images": count}))


if __name__ == "__main__":
    main()
