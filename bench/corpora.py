"""Benchmark inputs, generated at run time (nothing large is committed).

- ``doc``: a Responses document with 10 noisy 1024x1024 PNGs (~3 MB each, ~40 MB of JSON);
- ``chat``: the same images as data: URLs in a chat completion (OpenRouter's shape);
- ``jsonl``: Batch API output JSON Lines, one response with one image per line;
- ``sse``: a long SSE transcript with partial images, each final repeated in
  ``response.completed`` as the API does.

Noise keeps the PNGs from compressing away, so sizes match real generated images.
"""

from __future__ import annotations

import base64
import io
import json
import os
import random
from pathlib import Path

from PIL import Image


def noisy_png(seed: int, size: tuple[int, int] = (1024, 1024)) -> bytes:
    """A PNG of about 3 MB: a gradient with strong noise, like a generated photo."""
    rng = random.Random(seed)
    w, h = size
    noise = rng.randbytes(w * h * 3)
    image = Image.frombytes("RGB", size, noise)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def images(count: int = 10) -> list[bytes]:
    """``count`` different noisy PNGs (made once per process)."""
    return [noisy_png(seed) for seed in range(count)]


def _item(item_id: str, data: bytes) -> dict[str, object]:
    return {
        "id": item_id,
        "type": "image_generation_call",
        "status": "completed",
        "output_format": "png",
        "size": "1024x1024",
        "revised_prompt": "Noise, for a benchmark.",
        "result": base64.b64encode(data).decode("ascii"),
    }


def write_doc(path: Path, pngs: list[bytes]) -> Path:
    """A Responses document holding every image in ``pngs``."""
    response = {
        "id": "resp_bench",
        "object": "response",
        "status": "completed",
        "model": "gpt-5",
        "output": [_item(f"ig_bench_{i:03d}", data) for i, data in enumerate(pngs)]
        + [{"id": "msg_1", "type": "message", "role": "assistant", "content": []}],
    }
    path.write_text(json.dumps(response))
    return path


def write_chat_doc(path: Path, pngs: list[bytes]) -> Path:
    """A chat completion (OpenRouter's shape) holding ``pngs`` as data: URLs."""
    images = [
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + base64.b64encode(data).decode()},
        }
        for data in pngs
    ]
    completion = {
        "id": "gen-bench",
        "object": "chat.completion",
        "model": "google/gemini-2.5-flash-image",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "Here.", "images": images},
            }
        ],
    }
    path.write_text(json.dumps(completion))
    return path


def write_jsonl(path: Path, pngs: list[bytes], lines: int) -> Path:
    """Batch API output with ``lines`` lines, cycling through ``pngs``; written streaming."""
    encoded = [base64.b64encode(data).decode("ascii") for data in pngs]
    with open(path, "w") as fh:
        for n in range(lines):
            body = {
                "id": f"resp_{n:06d}",
                "object": "response",
                "status": "completed",
                "output": [
                    {
                        "id": f"ig_{n:06d}",
                        "type": "image_generation_call",
                        "status": "completed",
                        "output_format": "png",
                        "result": encoded[n % len(encoded)],
                    }
                ],
            }
            line = {
                "id": f"batch_req_{n:06d}",
                "custom_id": f"req-{n:06d}",
                "response": {"status_code": 200, "request_id": f"req_{n}", "body": body},
                "error": None,
            }
            fh.write(json.dumps(line) + "\n")
    return path


def write_sse(path: Path, pngs: list[bytes], items: int, partials: int = 2) -> Path:
    """An OpenAI-style SSE transcript: partials, output_item.done, then response.completed."""
    encoded = [base64.b64encode(data).decode("ascii") for data in pngs]
    seq = 0
    finals = []
    with open(path, "w") as fh:

        def event(payload: dict[str, object]) -> None:
            nonlocal seq
            payload["sequence_number"] = seq
            seq += 1
            fh.write(f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n")

        for n in range(items):
            item_id = f"ig_sse_{n:04d}"
            event(
                {
                    "type": "response.output_item.added",
                    "output_index": n,
                    "item": {
                        "id": item_id,
                        "type": "image_generation_call",
                        "status": "in_progress",
                    },
                }
            )
            for k in range(partials):
                event(
                    {
                        "type": "response.image_generation_call.partial_image",
                        "output_index": n,
                        "item_id": item_id,
                        "partial_image_index": k,
                        "partial_image_b64": encoded[(n + k + 1) % len(encoded)],
                    }
                )
            final = _item(item_id, b"")
            final["result"] = encoded[n % len(encoded)]
            finals.append(final)
            event({"type": "response.output_item.done", "output_index": n, "item": final})
        event(
            {
                "type": "response.completed",
                "response": {
                    "id": "resp_sse",
                    "object": "response",
                    "status": "completed",
                    "output": finals,
                },
            }
        )
    return path


def split_halves(path: Path) -> tuple[Path, Path]:
    """Write the first and second half of the lines of ``path`` to two files beside it."""
    with open(path, "rb") as fh:
        count = sum(1 for _ in fh)
    first, second = path.with_suffix(".half1.jsonl"), path.with_suffix(".half2.jsonl")
    with open(path, "rb") as fh, open(first, "wb") as one, open(second, "wb") as two:
        for n, line in enumerate(fh):
            (one if n < count // 2 else two).write(line)
    return first, second


def file_mb(path: Path) -> float:
    """Size of ``path`` in MB (10^6 bytes)."""
    return os.path.getsize(path) / 1e6


def _gemini_response(response_id: str, parts: list[dict[str, object]]) -> dict[str, object]:
    return {
        "candidates": [
            {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 14, "totalTokenCount": 1304},
        "modelVersion": "gemini-3-pro-image-preview",
        "responseId": response_id,
    }


def _gemini_part(data: str, signature: str) -> dict[str, object]:
    return {"inlineData": {"mimeType": "image/png", "data": data}, "thoughtSignature": signature}


def thought_signature(size: int = 1_000_000, seed: int = 99) -> str:
    """Base64 of opaque bytes, as large as the ~1 MB ``thoughtSignature`` Gemini sends."""
    return base64.b64encode(random.Random(seed).randbytes(size * 3 // 4)).decode("ascii")


def write_gemini_doc(path: Path, pngs: list[bytes]) -> Path:
    """A Gemini ``generateContent`` response: each image beside a 1 MB thoughtSignature."""
    signature = thought_signature()
    parts: list[dict[str, object]] = [{"text": "Here are the images."}]
    parts += [_gemini_part(base64.b64encode(d).decode("ascii"), signature) for d in pngs]
    path.write_text(json.dumps(_gemini_response("bench-gemini", parts)))
    return path


def write_gemini_jsonl(path: Path, pngs: list[bytes], lines: int) -> Path:
    """Gemini Batch API output: ``key`` + ``response`` lines, one image (and signature) each."""
    encoded = [base64.b64encode(data).decode("ascii") for data in pngs]
    signature = thought_signature()
    with open(path, "w") as fh:
        for n in range(lines):
            response = _gemini_response(
                f"bench-{n:06d}", [_gemini_part(encoded[n % len(encoded)], signature)]
            )
            fh.write(json.dumps({"key": f"req-{n:06d}", "response": response}) + "\n")
    return path


def write_small_run(folder: Path, count: int) -> Path:
    """An output folder of ``count`` tiny images and their manifest, as a big batch leaves.

    Every image is 8x6 pixels, so the gallery makes no thumbnail: what is measured is
    the page itself (cards, JSON, size per item). Prompts are 300 characters, the most
    a card shows.
    """
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, format="PNG")
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    words = "a quiet harbour at dawn with fishing boats, soft light, film grain, wide shot "
    with open(folder / "imgcall-manifest.jsonl", "w", encoding="utf-8") as manifest:
        for i in range(count):
            name = f"ig_{i:06d}.png"
            (folder / name).write_bytes(data)
            record = {
                "index": i,
                "input": "batch.jsonl",
                "id": f"ig_{i:06d}",
                "status": "completed",
                "outcome": "saved",
                "path": str(folder / name),
                "format": "PNG",
                "width": 8,
                "height": 6,
                "bytes": len(data),
                "sha256": digest,
                "location": f"batch.jsonl:{i + 1}#/response/body/output/0",
                "custom_id": f"request-{i:06d}",
                "revised_prompt": (f"{i} " + words * 4)[:300],
                "warnings": [],
                "error": None,
                "c2pa": i % 2 == 0,
            }
            manifest.write(json.dumps(record) + "\n")
    return folder


def write_decoded(folder: Path, pngs: list[bytes], count: int) -> Path:
    """The files a run of ``count`` lines cycling through ``pngs`` saves (for the floor)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"ig_{n:06d}.png").write_bytes(pngs[n % len(pngs)])
    return folder


def largest_line_mb(path: Path) -> float:
    """The longest line of ``path`` in MB (for a whole document, the document)."""
    longest = 0
    with open(path, "rb") as fh:
        for line in fh:
            longest = max(longest, len(line))
    return longest / 1e6
