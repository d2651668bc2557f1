"""examples/quickstart.ipynb runs in a real Jupyter kernel, and is saved with its outputs."""

from __future__ import annotations

import importlib.util
from typing import Any

import nbformat
import pytest

from .conftest import FIXTURES_DIR

EXAMPLES_DIR = FIXTURES_DIR.parent / "examples"
NOTEBOOK = EXAMPLES_DIR / "quickstart.ipynb"
# The notebook carries its outputs (GitHub shows them): thumbnails and a few small
# pictures, never the originals of a large gallery.
MAX_NOTEBOOK_BYTES = 100_000


def code_cells(notebook: Any) -> list[Any]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def cell_with(notebook: Any, text: str) -> Any:
    (cell,) = [cell for cell in code_cells(notebook) if text in cell.source]
    return cell


def what_it_shows(notebook: Any) -> list[list[tuple[str, Any]]]:
    """Each code cell's outputs as a reader sees them: kinds, text, and image types."""
    shown = []
    for cell in code_cells(notebook):
        outputs = []
        for output in cell.outputs:
            if output.output_type == "stream":
                outputs.append((output.name, output.text))
            else:
                data = output.get("data", {})
                outputs.append((output.output_type, (sorted(data), data.get("text/plain"))))
        shown.append(outputs)
    return shown


def run_notebook() -> Any:
    spec = importlib.util.spec_from_file_location(
        "run_quickstart", EXAMPLES_DIR / "run_quickstart.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.run(NOTEBOOK)


@pytest.fixture(scope="module")
def executed() -> Any:
    # Jupyter's own deprecation notice about its future paths would fail the run
    # (warnings are errors); the kernel's files go under an isolated $HOME.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PLATFORM_DIRS", "1")
        return run_notebook()


def test_the_committed_notebook_shows_its_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert NOTEBOOK.stat().st_size < MAX_NOTEBOOK_BYTES
    cells = code_cells(notebook)
    assert cells[0].outputs == []  # the imports
    for cell in cells[1:]:
        assert cell.outputs, f"no output saved for {cell.source[:40]!r}"
        assert "execution" not in cell.metadata  # no timestamps to churn the diff
    (image,) = cell_with(notebook, "image = imgcall.decode(item)").outputs
    assert "image/png" in image.data


def test_the_saved_outputs_are_what_a_fresh_run_gives(executed: Any) -> None:
    committed = nbformat.read(NOTEBOOK, as_version=4)
    assert what_it_shows(executed) == what_it_shows(committed), (
        "examples/quickstart.ipynb is stale: run python examples/run_quickstart.py"
    )


def test_the_notebook_runs_and_shows_images(executed: Any) -> None:
    notebook = executed
    outputs = [output for cell in code_cells(notebook) for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]

    (shown,) = cell_with(notebook, "image = imgcall.decode(item)").outputs
    assert shown.output_type == "execute_result"
    assert "image/png" in shown.data
    assert shown.data["text/plain"].startswith("<DecodedImage 'ig_lighthouse' PNG 384x256")

    (gallery,) = cell_with(notebook, "imgcall.show(").outputs
    html = gallery.data["text/html"]
    assert html.count("<img ") == 3
    assert "ImageGenerationFailedError" in html and "rejected by the safety system" in html

    (listed,) = cell_with(notebook, "imgcall.iter_images(").outputs
    assert listed.text.count("<DecodedImage ") == 3
    assert "item 'ig_gallery_failed': the API reported status 'failed'" in listed.text

    (saved,) = cell_with(notebook, "imgcall.save_images(").outputs
    assert saved.text.splitlines() == [
        "{'saved': 3, 'overwritten': 0, 'exists': 0, 'skipped': 0, 'failed': 1}",
        "['ig_gallery_png.png', 'ig_gallery_jpeg.jpg', 'ig_gallery_webp.webp']",
        "[('ig_gallery_failed', 'moderation_blocked')]",
    ]

    stream = cell_with(notebook, "imgcall.watch(").outputs
    displays = [o for o in stream if o.output_type == "display_data"]
    assert len(displays) == 1, (
        "the replayed stream showed no image: does iter_images read stream events yet?"
    )
    # The partial previews were replaced in place by the final image, with its caption.
    figure = displays[0].data["text/html"]
    assert 'src="data:image/png;base64,' in figure and "<figcaption" in figure
    assert "ig_stream_1 · 384x256 · PNG" in figure
    assert "ig_stream_1" in displays[0].data["text/plain"]
    assert "partial" not in displays[0].data["text/plain"]
    (result,) = [o for o in stream if o.output_type == "execute_result"]
    assert result.data["text/plain"].startswith("[<DecodedImage 'ig_stream_1' PNG 384x256")


def test_the_example_pictures_are_worth_looking_at_and_small() -> None:
    import imgcall

    for path in (FIXTURES_DIR / "notebook").iterdir():
        for image in imgcall.iter_images(path, partials=True, errors="skip"):
            assert image.width is not None and image.height is not None
            assert max(image.width, image.height) >= 192, (path.name, image)
            assert image.nbytes < 16_000, (path.name, image)
        assert path.stat().st_size < 40_000, path.name
