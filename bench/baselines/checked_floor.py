"""Baseline (f), a floor for imgcall on Batch JSON Lines: the least a Python loop can do
while keeping imgcall's promises for a PNG.

Usage: python checked_floor.py INPUT OUT_DIR; prints {"seconds", "images"} as JSON.

Per line: pydantic_core parses it (the fastest parser imgcall may use), pybase64 decodes
the result strictly, the PNG's signature, size and every chunk CRC are checked
(zlib-ng), the SHA-256 is computed, the file is written without a name and linked into
place once complete (Linux ``O_TMPFILE`` + ``linkat``: never a half-written file under a
final name), and a manifest line with imgcall's fields goes out whole with one write. It
reads one shape only and handles no error: no provider detection, no naming rules, no
conflict policy, no recovery, so imgcall cannot be faster than this on one core. It is
here to show how much of imgcall's time is the work itself (bench/README.md, "Limits").
"""

import hashlib
import json
import mmap
import os
import struct
import sys
import time

import pybase64
import pydantic_core
from zlib_ng.zlib_ng import crc32

PNG = b"\x89PNG\r\n\x1a\n"


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    start = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    root = os.open("/", os.O_RDONLY)
    encode = json.JSONEncoder(ensure_ascii=False).encode
    unpack = struct.unpack_from
    flags = os.O_TMPFILE | os.O_WRONLY
    manifest = os.open(os.path.join(out, "imgcall-manifest.jsonl"), os.O_WRONLY | os.O_CREAT, 0o666)
    count = 0
    with open(src, "rb") as fh:
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        pos, size, line = 0, len(mapped), 0
        while pos < size:
            newline = mapped.find(b"\n", pos)
            end = size if newline < 0 else newline
            value = pydantic_core.from_json(mapped[pos:end])
            pos, line = end + 1, line + 1
            body = value["response"]["body"]
            for k, item in enumerate(body["output"]):
                if item.get("type") != "image_generation_call":
                    continue
                data = pybase64.b64decode(item["result"], validate=True)
                if data[:8] != PNG:
                    raise SystemExit(f"line {line}: not a PNG")
                width, height = unpack(">II", data, 16)
                at = 8
                while at < len(data):
                    (length,) = unpack(">I", data, at)
                    stop = at + 12 + length
                    if crc32(data[at + 4 : stop - 4]) != unpack(">I", data, stop - 4)[0]:
                        raise SystemExit(f"line {line}: bad CRC")
                    at = stop
                sha256 = hashlib.sha256(data).hexdigest()
                path = f"{out}/{item['id']}.png"
                fd = os.open(out, flags, 0o666)
                os.write(fd, data)
                os.link(f"/proc/self/fd/{fd}", path, src_dir_fd=root)
                os.close(fd)
                record = {
                    "index": count,
                    "input": src,
                    "id": item["id"],
                    "status": item["status"],
                    "outcome": "saved",
                    "path": path,
                    "format": "PNG",
                    "width": width,
                    "height": height,
                    "bytes": len(data),
                    "sha256": sha256,
                    "location": f"{src}:{line}#/response/body/output/{k}",
                    "custom_id": value.get("custom_id"),
                    "response_id": body.get("id"),
                    "revised_prompt": item.get("revised_prompt"),
                    "partial": False,
                    "partial_index": None,
                    "converted_from": None,
                    "note": None,
                    "warnings": [],
                    "error": None,
                    "error_type": None,
                    "error_code": None,
                    "duplicate_of": None,
                    "c2pa": False,
                }
                os.write(manifest, encode(record).encode() + b"\n")
                count += 1
    print(json.dumps({"seconds": time.perf_counter() - start, "images": count}))


if __name__ == "__main__":
    main()
