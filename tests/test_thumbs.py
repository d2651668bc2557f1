"""Thumbnails for the gallery page: made on threads, shared, reused, never outside."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image

from imgcall.thumbs import THUMBS_DIR, make_thumbnails

from .helpers import noise_png, png


def put(folder: Path, name: str, data: bytes) -> tuple[str, str]:
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    return name, hashlib.sha256(data).hexdigest()


def test_thumbnails_are_small_files_shared_by_identical_images(tmp_path: Path) -> None:
    big = noise_png(400, seed=1)
    jobs = [
        put(tmp_path, "a.png", big),
        put(tmp_path, "b.png", big),
        put(tmp_path, "c.png", noise_png(500, 2)),
    ]
    made = make_thumbnails(tmp_path, jobs, side=128, workers=2)
    assert (made.made, made.reused, made.removed) == (2, 0, 0)
    assert made.paths["a.png"] == made.paths["b.png"] != made.paths["c.png"]
    for rel in made.paths.values():
        assert rel is not None and rel.startswith(f"{THUMBS_DIR}/")
        with Image.open(tmp_path / rel) as thumb:
            assert max(thumb.size) == 128
        assert (tmp_path / rel).stat().st_size <= 128 * 128 // 2


def test_a_rebuild_makes_nothing_and_removes_what_is_not_used(tmp_path: Path) -> None:
    jobs = [put(tmp_path, "a.png", noise_png(300, 1)), put(tmp_path, "b.png", noise_png(300, 2))]
    make_thumbnails(tmp_path, jobs, side=64)
    again = make_thumbnails(tmp_path, jobs[:1], side=64)
    assert (again.made, again.reused, again.removed) == (0, 1, 1)
    assert len(list((tmp_path / THUMBS_DIR).iterdir())) == 1


def test_an_unreadable_image_gets_a_note(tmp_path: Path) -> None:
    jobs = [put(tmp_path, "bad.png", png()[:30]), ("gone.png", "0" * 64)]
    made = make_thumbnails(tmp_path, jobs, side=64)
    assert made.paths == {"bad.png": None, "gone.png": None}
    assert made.notes["bad.png"].startswith("no preview:")
    assert made.notes["gone.png"].startswith("no preview:")


def test_a_symlink_in_place_of_an_image_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(noise_png(300, 3))
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "x.png").symlink_to(secret)
    made = make_thumbnails(folder, [("x.png", "1" * 64)], side=64)
    assert made.paths == {"x.png": None} and made.made == 0
