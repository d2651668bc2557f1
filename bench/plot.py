"""A small PNG of the benchmark: throughput and peak memory per variant, drawn with Pillow.

Pillow is already a dependency, so the plot needs nothing else installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

_ROW = 22
_LABEL_W = 330
_BAR_W = 360
_COLORS = {"imgcall": (52, 120, 200), "other": (150, 150, 150)}


def _rows(report: dict[str, Any]) -> list[tuple[str, float, float]]:
    rows = []
    for scenario, variants in report["scenarios"].items():
        for row in variants:
            if not row["input_mb"]:
                continue
            t = row["work_s"] if row["work_s"] == row["work_s"] else row["wall_s"]
            rows.append((f"{scenario[:22]}: {row['variant']}", row["input_mb"] / t, row["rss_mb"]))
    return rows


def plot(report: dict[str, Any], path: Path) -> None:
    """Draw throughput (MB/s) and peak RSS (MB) as two bar panels into ``path``."""
    rows = _rows(report)
    font = ImageFont.load_default()
    height = 60 + 2 * (len(rows) * _ROW + 40)
    image = Image.new("RGB", (_LABEL_W + _BAR_W + 90, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 10), "imgcall benchmark (blue: imgcall)", fill="black", font=font)
    y = 40
    for title, index, unit in (("throughput, MB/s of input", 1, "MB/s"), ("peak RSS, MB", 2, "MB")):
        draw.text((10, y), title, fill="black", font=font)
        y += 20
        top = max((r[index] for r in rows), default=1.0) or 1.0
        for row in rows:
            value = row[index]
            color = _COLORS["imgcall" if "imgcall" in row[0] else "other"]
            draw.text((10, y + 4), row[0][:52], fill="black", font=font)
            width = int(_BAR_W * value / top) if value == value else 0
            draw.rectangle((_LABEL_W, y + 3, _LABEL_W + max(width, 1), y + _ROW - 5), fill=color)
            draw.text(
                (_LABEL_W + width + 6, y + 4), f"{value:,.0f} {unit}", fill="black", font=font
            )
            y += _ROW
        y += 20
    image.save(path)
