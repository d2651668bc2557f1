"""How long ``check="full"`` takes for animations at the edge of the default limits.

``python -m bench.animations`` decodes, for GIF, APNG and animated WebP, animations
whose frames x canvas fill the default budget (`imgcall.Limits.max_total_pixels`)
exactly, from one frame on the largest canvas to the most frames allowed, in two kinds:
one-pixel frames on the full canvas (the bombs of issue 13: what composing costs)
and full frames of real pixels (what decoding costs). It prints the slowest of three
runs of each, wall-clock and CPU time (these machines are shared: CPU time is the
steadier figure); the default limits are sized so that every row is about a second.
Run it from the repository root (it borrows the byte-level builders of the tests).
"""

from __future__ import annotations

import base64
import io
import math
import time

from PIL import Image

import imgcall
from tests.animations import animated_webp, apng, gif

BUDGET = imgcall.Limits().max_total_pixels
COUNTS = (1, 2, 8, 64, 1000, 5000)


def _real(fmt: str, side: int, count: int) -> bytes:
    """``count`` full frames of two alternating colours, saved by Pillow."""
    frames = [Image.new("RGB", (side, side), (200, 40 * k, 30)) for k in range(2)]
    buffer = io.BytesIO()
    extra: dict[str, object] = {"lossless": True} if fmt == "WEBP" else {}
    frames[0].save(
        buffer,
        format=fmt,
        save_all=count > 1,
        append_images=[frames[k % 2] for k in range(1, count)],
        duration=40,
        **extra,
    )
    return buffer.getvalue()


def _bomb(fmt: str, side: int, count: int) -> bytes:
    frames = [(0, 0, 1, 1)] * count
    if fmt == "GIF":
        return gif((side, side), frames)
    if fmt == "PNG":
        return apng((side, side), frames)
    return animated_webp((side, side), frames)


def _seconds(data: bytes) -> tuple[float, float]:
    item = {
        "type": "image_generation_call",
        "id": "bench",
        "status": "completed",
        "result": base64.b64encode(data).decode("ascii"),
    }
    wall = cpu = 0.0
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        imgcall.decode(item, check="full")
        wall = max(wall, time.perf_counter() - start)
        cpu = max(cpu, time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    """Print one row per format, kind and shape: frames, canvas, bytes, seconds."""
    print(f"budget: {BUDGET:,} pixels (frames x canvas); slowest of 3 runs")
    head = ("format", "kind", "frames", "canvas", "bytes", "wall s", "cpu s")
    print("{:6} {:5} {:>6} {:>11} {:>10} {:>7} {:>6}".format(*head))
    for fmt in ("GIF", "PNG", "WEBP"):
        for kind, make in (("bomb", _bomb), ("real", _real)):
            for count in COUNTS:
                side = math.isqrt(BUDGET // count)
                data = make(fmt, side, count)
                wall, cpu = _seconds(data)
                print(
                    f"{fmt:6} {kind:5} {count:>6} {f'{side}x{side}':>11} {len(data):>10,} "
                    f"{wall:>7.2f} {cpu:>6.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
