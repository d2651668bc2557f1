"""The gallery page: what write_gallery writes, and the page itself in headless Chromium."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import io
import json
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

import imgcall
from imgcall.errors import InvalidInputError, OutputExistsError
from imgcall.htmlpage import GALLERY_NAME, write_gallery
from imgcall.manifest import MANIFEST_NAME
from imgcall.thumbs import THUMB_SIDE, THUMBS_DIR
from tests.browser import browser, console_errors, open_page, requests
from tests.s3server import bucket, s3_endpoint

from .helpers import item, png

__all__ = ["browser", "bucket", "s3_endpoint"]  # the fixtures, imported for the tests below

HOSTILE = '<img src=x onerror="window.__pwned=1">'
PROMPTS = [
    "A lighthouse on a cliff at sunset, flat colours",
    "A red fox asleep in deep snow, watercolour",
    "An isometric city block at night with neon signs",
]


def drawing(size: int, seed: int, fmt: str = "PNG") -> bytes:
    """A picture with shapes, so a thumbnail that renders is visibly not blank."""
    image = Image.new("RGB", (size, size), (30 + seed * 40 % 200, 90, 160))
    draw = ImageDraw.Draw(image)
    for k in range(6):
        x = (seed * 97 + k * 151) % size
        draw.ellipse(
            (x - size // 5, x // 2, x + size // 5, x // 2 + size // 3), fill=(240, 200 - k * 20, 60)
        )
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def batch_line(custom_id: str, found: dict[str, Any]) -> dict[str, Any]:
    body = {"id": f"resp_{custom_id}", "object": "response", "output": [found]}
    return {"custom_id": custom_id, "response": {"status_code": 200, "body": body}}


def make_batch(folder: Path) -> Path:
    """A batch output file: large and small images, C2PA, failures, hostile text."""
    from tests.c2pa_helpers import sign

    lines = [
        batch_line("req-0", item("ig_large", drawing(900, 1), revised_prompt=PROMPTS[0])),
        batch_line("req-1", item("ig_small", drawing(64, 2), revised_prompt=PROMPTS[1])),
        batch_line(
            "req-2",
            item("ig_signed", sign(drawing(700, 3, "JPEG"), "JPEG"), revised_prompt=PROMPTS[2]),
        ),
        batch_line(
            "req-3",
            item(
                "ig_blocked",
                None,
                status="failed",
                error={"code": "moderation_blocked", "message": "Rejected by the safety system."},
            ),
        ),
        batch_line(
            "req-4",
            item(HOSTILE, png(), revised_prompt="</script><script>window.__pwned=2</script>"),
        ),
    ]
    batch = folder / "batch.jsonl"
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return batch


def make_run(folder: Path) -> Path:
    """The output folder of a run on `make_batch`'s file."""
    out = folder / "out"
    imgcall.save_images(make_batch(folder), out)
    return out


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path)


def page_data(page: str) -> dict[str, Any]:
    block = page.split('<script id="ic-data" type="application/json">', 1)[1].split("</script>", 1)[
        0
    ]
    value: dict[str, Any] = json.loads(block)
    return value


# --- what is written ----------------------------------------------------------------------


def test_the_page_has_a_card_per_manifest_line(run_dir: Path) -> None:
    report = write_gallery(run_dir)
    assert report.path == run_dir / GALLERY_NAME
    assert (report.items, report.images, report.failed, report.c2pa) == (5, 4, 1, 1)
    page = report.path.read_text()
    cards = page_data(page)["cards"]
    assert len(cards) == 5
    flags = [flag for flag, _ in cards]
    assert flags == [1, 1, 1 | 4, 2, 1]
    html = [card for _, card in cards]
    assert 'href="ig_large.png"' in html[0] and f'src="{THUMBS_DIR}/' in html[0]
    # A small image is shown from its own file: no thumbnail is made for it.
    assert 'src="ig_small.png"' in html[1]
    assert ">C2PA<" in html[2] and "req-2" in html[2] and PROMPTS[2] in html[2]
    assert "Blocked by the provider&#x27;s safety system" in html[3]
    assert (
        "moderation_blocked" in html[3]
        and "ImageGenerationFailedError" not in html[3].split("title=")[0]
    )
    assert report.thumbnails_made == 2  # the 900 and 700 pixel images
    thumbs = sorted(p.name for p in (run_dir / THUMBS_DIR).iterdir())
    assert len(thumbs) == 2
    for name in thumbs:
        with Image.open(run_dir / THUMBS_DIR / name) as thumb:
            assert max(thumb.size) == THUMB_SIDE


def test_payload_text_never_becomes_markup(run_dir: Path) -> None:
    page = write_gallery(run_dir).path.read_text()
    block = page.split('<script id="ic-data" type="application/json">', 1)[1].split("</script>", 1)[
        0
    ]
    assert "<" not in block and ">" not in block  # nothing can end the data block
    html = page_data(page)["cards"][4][1]
    assert (
        "<img src=x" not in html
        and "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in html
    )
    assert "<script>" not in html and "&lt;/script&gt;&lt;script&gt;" in html
    static = page.split('<div id="ic-grid" class="ic-static">', 1)[1].split("</main>", 1)[0]
    assert "<script" not in static and "<img src=x" not in static


def test_the_policy_pins_the_pages_own_script_and_style(run_dir: Path) -> None:
    page = write_gallery(run_dir).path.read_text()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    rules = dict(rule.strip().split(" ", 1) for rule in policy.group(1).split(";"))
    assert rules["default-src"] == "'none'" and rules["img-src"] == "'self' data: file:"
    for tag, rule in (("script", "script-src"), ("style", "style-src")):
        body = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.S)
        assert len(body) == 1
        digest = base64.b64encode(hashlib.sha256(body[0].encode()).digest()).decode()
        assert rules[rule] == f"'sha256-{digest}'"
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert "style=" not in page  # the policy allows the page's stylesheet only


def test_a_rebuild_reuses_thumbnails_and_drops_unused_ones(run_dir: Path) -> None:
    write_gallery(run_dir)
    stale = run_dir / THUMBS_DIR / ("0" * 32 + f"-{THUMB_SIDE}.jpg")
    stale.write_bytes(b"old")
    report = write_gallery(run_dir)
    assert (report.thumbnails_made, report.thumbnails_reused) == (0, 2)
    assert not stale.exists()


def test_a_missing_file_is_a_card_that_says_so(run_dir: Path) -> None:
    (run_dir / "ig_large.png").unlink()
    report = write_gallery(run_dir)
    assert (report.images, report.failed) == (3, 2)
    html = page_data(report.path.read_text())["cards"][0][1]
    assert "The file is missing" in html and "ig_large.png is not in the folder" in html


def test_manifest_lines_that_cannot_be_read_are_counted(run_dir: Path) -> None:
    with (run_dir / MANIFEST_NAME).open("a") as fh:
        fh.write('{"broken\n[1, 2]\n\n')
    report = write_gallery(run_dir)
    assert report.items == 5
    assert report.warnings == (f"2 lines of {MANIFEST_NAME} unreadable",)


def test_a_folder_without_a_manifest_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"has no imgcall-manifest\.jsonl"):
        write_gallery(tmp_path)


def test_an_index_html_imgcall_did_not_write_is_never_replaced(run_dir: Path) -> None:
    mine = run_dir / GALLERY_NAME
    mine.write_text("<h1>my own page</h1>")
    with pytest.raises(OutputExistsError, match="not a gallery imgcall wrote"):
        write_gallery(run_dir)
    assert mine.read_text() == "<h1>my own page</h1>"
    assert not (run_dir / THUMBS_DIR).exists()  # refused before any work
    mine.unlink()
    mine.symlink_to(run_dir / "elsewhere.html")
    with pytest.raises(OutputExistsError):
        write_gallery(run_dir)
    assert not (run_dir / "elsewhere.html").exists()


def test_a_symlinked_thumbnail_folder_is_never_written_through(
    run_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (run_dir / THUMBS_DIR).symlink_to(outside)
    report = write_gallery(run_dir)
    assert list(outside.iterdir()) == []
    assert report.warnings == (
        f"thumbnails not made: {THUMBS_DIR} is not a folder (a symlink or a file is there)",
    )
    html = page_data(report.path.read_text())["cards"][0][1]
    assert "no preview" in html and 'href="ig_large.png"' in html


def many_records(folder: Path, n: int, *, prompt_chars: int = 0) -> None:
    """A manifest of ``n`` small images (8x6 PNGs), as a batch run of that size writes."""
    folder.mkdir(parents=True, exist_ok=True)
    data = png()
    digest = hashlib.sha256(data).hexdigest()
    lines = []
    for i in range(n):
        name = f"ig_{i:05d}.png"
        (folder / name).write_bytes(data)
        prompt = (f"prompt {i} " + "a long description of a scene " * 200)[: prompt_chars or 40]
        failed = i % 50 == 49
        record = {
            "index": i,
            "input": "batch.jsonl",
            "id": f"ig_{i:05d}",
            "status": "failed" if failed else "completed",
            "outcome": "failed" if failed else "saved",
            "path": None if failed else str(folder / name),
            "format": None if failed else "PNG",
            "width": None if failed else 8,
            "height": None if failed else 6,
            "bytes": None if failed else len(data),
            "sha256": None if failed else digest,
            "location": f"batch.jsonl:{i + 1}#/response/body/output/0",
            "custom_id": f"request-{i:05d}",
            "revised_prompt": prompt,
            "warnings": [],
            "error": "the API reported status 'failed'" if failed else None,
            "error_type": "ImageGenerationFailedError" if failed else None,
            "error_code": "moderation_blocked" if failed else None,
            "c2pa": None if failed else i % 3 == 0,
        }
        lines.append(json.dumps(record))
    (folder / MANIFEST_NAME).write_text("\n".join(lines) + "\n")


def test_about_one_kilobyte_per_item_even_with_long_prompts(tmp_path: Path) -> None:
    many_records(tmp_path / "run", 500, prompt_chars=4000)
    page = write_gallery(tmp_path / "run").path.read_text()
    data = page.split('<script id="ic-data" type="application/json">', 1)[1].split("</script>", 1)[
        0
    ]
    assert len(data.encode()) / 500 < 1100
    assert len(page.encode()) < 500 * 1100 + 100_000  # the script, styles and first cards


# --- in a real browser ---------------------------------------------------------------------


def visible_cards(driver: Any) -> list[str]:
    script = (
        "return [...document.querySelectorAll('#ic-grid .ic-slot .ic-id')].map(e => e.textContent)"
    )
    ids: list[str] = driver.execute_script(script)
    return ids


def test_the_page_in_chromium_from_disk(browser: Any, run_dir: Path) -> None:
    write_gallery(run_dir)
    open_page(browser, (run_dir / GALLERY_NAME).as_uri())
    assert sorted(visible_cards(browser)) == sorted(
        ["ig_large", "ig_small", "ig_signed", "ig_blocked", HOSTILE]
    )
    # decode() settles once an image has loaded (and fails if it cannot be shown).
    widths = browser.execute_script(
        "return Promise.all([...document.querySelectorAll('#ic-grid img')].map("
        "i => i.decode().then(() => i.naturalWidth, () => 0)))"
    )
    assert len(widths) == 4 and all(width > 0 for width in widths), widths
    text = browser.find_element("id", "ic-grid").text
    assert "Blocked by the provider's safety system" in text and "moderation_blocked" in text
    assert "C2PA" in text and "req-2" in text
    assert browser.execute_script("return window.__pwned") is None  # hostile text stayed text
    assert browser.find_element("id", "ic-count").text == "5 items"
    made = requests(browser)
    assert made, "the DevTools log saw no request at all"
    folder = run_dir.as_uri()
    assert all(url.startswith((folder, "data:")) for url in made), made
    assert console_errors(browser) == []


def test_the_filter_and_the_kind_buttons(browser: Any, run_dir: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    write_gallery(run_dir)
    open_page(browser, (run_dir / GALLERY_NAME).as_uri())
    box = browser.find_element("id", "ic-q")

    def shows(ids: list[str]) -> None:
        WebDriverWait(browser, 10).until(lambda d: sorted(visible_cards(d)) == sorted(ids))

    box.send_keys("FOX asleep")  # words of the prompt, any case, in any order
    shows(["ig_small"])
    assert browser.find_element("id", "ic-count").text == "showing 1 of 5"
    box.clear()
    box.send_keys("req-2")  # a custom_id
    shows(["ig_signed"])
    box.clear()
    box.send_keys("failed")  # a status
    shows(["ig_blocked"])
    box.clear()
    box.send_keys("nothing like this")
    shows([])
    assert "Nothing matches the filter." in browser.find_element("id", "ic-grid").text
    box.clear()
    box.send_keys(" ")
    shows(["ig_large", "ig_small", "ig_signed", "ig_blocked", HOSTILE])
    browser.find_element("css selector", "[data-kind=c2pa]").click()
    shows(["ig_signed"])
    browser.find_element("css selector", "[data-kind=failed]").click()
    shows(["ig_blocked"])
    browser.find_element("css selector", "[data-kind=all]").click()
    assert len(visible_cards(browser)) == 5
    assert console_errors(browser) == []


def test_a_click_opens_the_image_and_escape_closes_it(browser: Any, run_dir: Path) -> None:
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    write_gallery(run_dir)
    open_page(browser, (run_dir / GALLERY_NAME).as_uri())
    browser.find_element("css selector", ".ic-slot a.ic-box[href='ig_large.png']").click()
    view = browser.find_element("id", "ic-view")
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script(
            "const i = document.querySelector('#ic-view img');return i.complete && i.naturalWidth"
        )
    )
    assert view.is_displayed() and browser.current_url.endswith(GALLERY_NAME)
    assert "ig_large" in view.text and PROMPTS[0] in view.text
    assert (
        browser.execute_script("return document.querySelector('#ic-view img').naturalWidth") == 900
    )
    browser.find_element("tag name", "body").send_keys(Keys.ARROW_RIGHT)
    WebDriverWait(browser, 10).until(lambda d: "ig_small" in view.text)
    browser.find_element("tag name", "body").send_keys(Keys.ESCAPE)
    WebDriverWait(browser, 10).until(lambda d: not view.is_displayed())
    assert console_errors(browser) == []


SCRIPTED_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
    b'<rect width="40" height="40" fill="teal"/><script>window.__svg = 1</script></svg>'
)


def test_an_svg_is_never_opened_as_a_page(browser: Any, tmp_path: Path) -> None:
    """Its card and the viewer's link save the file: opened as a page, it would run."""
    from selenium.webdriver.support.ui import WebDriverWait

    lines = [
        batch_line("req-0", item("ig_svg", SCRIPTED_SVG)),
        batch_line("req-1", item("ig_png", drawing(64, 1))),
    ]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out"
    imgcall.save_images(batch, out)
    html = [card for _, card in page_data(write_gallery(out).path.read_text())["cards"]]
    assert 'href="ig_svg.svg" download>' in html[0] and " download" not in html[1]
    open_page(browser, (out / GALLERY_NAME).as_uri())
    opener = "return document.querySelector('#ic-view a').hasAttribute('download')"
    for name, saves in (("ig_svg.svg", True), ("ig_png.png", False)):
        browser.find_element("css selector", f".ic-slot a.ic-box[href='{name}']").click()
        WebDriverWait(browser, 10).until(lambda d: d.find_element("id", "ic-view").is_displayed())
        assert browser.execute_script(opener) is saves, name
        browser.find_element("css selector", "#ic-view [data-act=close]").click()
    assert browser.execute_script("return window.__svg") is None
    assert console_errors(browser) == []


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def served(run_dir: Path) -> Iterator[tuple[str, list[str]]]:
    """The run folder on a loopback static server that logs every path asked for."""
    asked: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(run_dir), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            asked.append(self.path)

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", asked
    finally:
        server.shutdown()
        server.server_close()


def test_served_over_http_no_request_leaves_the_folder(
    browser: Any, run_dir: Path, served: tuple[str, list[str]]
) -> None:
    origin, asked = served
    write_gallery(run_dir)
    open_page(browser, f"{origin}/{GALLERY_NAME}")
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    browser.execute_script(
        "return Promise.all([...document.images].map(i => i.decode().catch(() => 0)))"
    )
    made = requests(browser)
    assert f"{origin}/{GALLERY_NAME}" in made
    assert all(url.startswith((origin + "/", "data:")) for url in made), made
    assert any(path.startswith(f"/{THUMBS_DIR}/") for path in asked)
    assert console_errors(browser) == []


@pytest.mark.slow
def test_five_thousand_cards_show_at_once_and_scroll(browser: Any, tmp_path: Path) -> None:
    folder = tmp_path / "big"
    many_records(folder, 5000, prompt_chars=300)
    write_gallery(folder)
    open_page(browser, (folder / GALLERY_NAME).as_uri())
    ready_ms = int(browser.execute_script("return document.documentElement.dataset.ready"))
    assert ready_ms < 5000, f"first cards after {ready_ms} ms"  # the issue asks ~2 s
    shown = visible_cards(browser)
    assert shown[:3] == ["ig_00000", "ig_00001", "ig_00002"]
    assert 0 < len(shown) < 300  # only the cards near the viewport are in the document
    assert browser.find_element("id", "ic-count").text == "5,000 items"
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    browser.execute_script("return new Promise(r => requestAnimationFrame(() => r()))")
    at_end = visible_cards(browser)
    assert "ig_04999" in at_end and "ig_00000" not in at_end and len(at_end) < 300
    box = browser.find_element("id", "ic-q")
    box.send_keys("request-04321")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(lambda d: visible_cards(d) == ["ig_04321"])
    assert console_errors(browser) == []


def test_copy_of_the_folder_elsewhere_still_works(run_dir: Path, tmp_path: Path) -> None:
    write_gallery(run_dir)
    moved = tmp_path / "moved"
    shutil.copytree(run_dir, moved)
    report = write_gallery(moved)
    assert (report.images, report.thumbnails_reused) == (4, 2)


# --- in object storage ---------------------------------------------------------------------


@pytest.fixture
def memory_folder() -> Iterator[str]:
    """A fresh prefix in fsspec's in-memory file system."""
    fsspec = pytest.importorskip("fsspec")
    root = f"/imgcall-{uuid.uuid4().hex}"
    yield f"memory://{root}/out"
    with contextlib.suppress(FileNotFoundError):
        fsspec.filesystem("memory").rm(root, recursive=True)


def _stored(url: str, **options: Any) -> dict[str, bytes]:
    import fsspec

    fs, root = fsspec.core.url_to_fs(url, **options)
    fs.invalidate_cache()
    return {p[len(root) + 1 :]: fs.cat_file(p) for p in fs.find(root)}


def test_a_gallery_in_object_storage_is_the_one_made_on_disk(
    tmp_path: Path, memory_folder: str
) -> None:
    batch = make_batch(tmp_path)
    local = tmp_path / "out"
    imgcall.save_images(batch, local)
    imgcall.save_images(batch, memory_folder)
    report = write_gallery(memory_folder)
    assert report.path == imgcall.ObjectPath(f"{memory_folder}/{GALLERY_NAME}")
    assert (report.items, report.images, report.failed, report.c2pa) == (5, 4, 1, 1)
    assert (report.thumbnails_made, report.thumbnails_reused) == (2, 0)
    on_disk = write_gallery(local)
    stored = _stored(memory_folder)
    # The same cards, thumbnails and links: only where the folder is differs.
    assert stored[GALLERY_NAME] == on_disk.path.read_bytes()
    thumbs = {n: d for n, d in stored.items() if n.startswith(f"{THUMBS_DIR}/")}
    assert thumbs == {
        f"{THUMBS_DIR}/{p.name}": p.read_bytes() for p in (local / THUMBS_DIR).iterdir()
    }
    again = write_gallery(memory_folder)
    assert (again.thumbnails_made, again.thumbnails_reused) == (0, 2)


def test_object_storage_keeps_the_pages_guarantees(tmp_path: Path, memory_folder: str) -> None:
    import fsspec

    with pytest.raises(InvalidInputError, match=r"has no imgcall-manifest\.jsonl"):
        write_gallery(memory_folder)
    imgcall.save_images(make_batch(tmp_path), memory_folder)
    fs, root = fsspec.core.url_to_fs(memory_folder)
    fs.rm_file(f"{root}/ig_small.png")  # a file gone since the run
    fs.pipe_file(f"{root}/{GALLERY_NAME}", b"<html>the user's own page</html>")
    with pytest.raises(OutputExistsError, match="not a gallery imgcall wrote"):
        write_gallery(memory_folder)
    assert fs.cat_file(f"{root}/{GALLERY_NAME}") == b"<html>the user's own page</html>"
    fs.rm_file(f"{root}/{GALLERY_NAME}")
    report = write_gallery(memory_folder)
    assert (report.images, report.failed) == (3, 2)
    assert "The file is missing" in report_page(memory_folder)


def report_page(url: str) -> str:
    return _stored(url)[GALLERY_NAME].decode()


def test_extract_html_and_sidecars_into_s3_shown_by_chromium_from_the_bucket(
    browser: Any, tmp_path: Path, bucket: dict[str, Any], s3_endpoint: str
) -> None:
    """A bucket served over HTTP (as S3 static hosting does) shows the gallery."""
    from click.testing import CliRunner

    from imgcall.cli import cli

    url = f"s3://{bucket['name']}/run"
    endpoint = json.dumps(bucket["options"]["client_kwargs"])
    args = ["extract", str(make_batch(tmp_path)), "-o", url, "--html", "--sidecar"]
    result = CliRunner().invoke(cli, [*args, "--storage-option", f"client_kwargs={endpoint}"])
    assert result.exit_code == 1, result.output  # the blocked item
    assert f"imgcall: gallery {url}/{GALLERY_NAME}: 4 images (1 with C2PA), 1 not saved" in (
        result.stderr
    )
    fs = bucket["fs"]
    fs.invalidate_cache()
    key = f"{bucket['name']}/run"
    assert fs.info(f"{key}/{GALLERY_NAME}")["ContentType"] == "text/html; charset=utf-8"
    assert fs.info(f"{key}/ig_large.png")["ContentType"] == "image/png"
    assert fs.info(f"{key}/ig_signed.jpg")["ContentType"] == "image/jpeg"
    sidecar = json.loads(fs.cat_file(f"{key}/ig_signed.json"))
    assert (sidecar["custom_id"], sidecar["c2pa"]) == ("req-2", True)
    assert len(fs.ls(f"{key}/{THUMBS_DIR}")) == 2
    # The page, served by the store itself to anyone (path-style URLs), as a bucket with
    # a public-read policy serves it.
    import boto3

    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{key}/*",
            }
        ],
    }
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.put_bucket_policy(Bucket=bucket["name"], Policy=json.dumps(policy))
    origin = f"{s3_endpoint}/{key}/"
    open_page(browser, origin + GALLERY_NAME)
    assert sorted(visible_cards(browser)) == sorted(
        ["ig_large", "ig_small", "ig_signed", "ig_blocked", HOSTILE]
    )
    widths = browser.execute_script(
        "return Promise.all([...document.querySelectorAll('#ic-grid img')].map("
        "i => i.decode().then(() => i.naturalWidth, () => 0)))"
    )
    assert len(widths) == 4 and all(width > 0 for width in widths), widths
    made = requests(browser)
    assert any(f"/{THUMBS_DIR}/" in u for u in made), made
    assert all(u.startswith((origin, "data:")) for u in made), made
    assert console_errors(browser) == []
