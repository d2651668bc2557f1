"""examples/quickstart.ipynb runs in a real Jupyter kernel and shows images and a gallery."""

from __future__ import annotations

from typing import Any

import nbclient
import nbformat
import pytest

from .conftest import FIXTURES_DIR

EXAMPLES_DIR = FIXTURES_DIR.parent / "examples"
NOTEBOOK = EXAMPLES_DIR / "quickstart.ipynb"


def code_cells(notebook: Any) -> list[Any]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def cell_with(notebook: Any, text: str) -> Any:
    (cell,) = [cell for cell in code_cells(notebook) if text in cell.source]
    return cell


def test_the_committed_notebook_has_no_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in code_cells(notebook):
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:40]


def test_the_notebook_runs_and_shows_images(monkeypatch: pytest.MonkeyPatch) -> None:
    # Jupyter's own deprecation notice about its future paths would fail the run
    # (warnings are errors); the kernel's files go under the isolated $HOME.
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(EXAMPLES_DIR)}},
    )
    client.execute()

    outputs = [output for cell in code_cells(notebook) for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]

    (shown,) = cell_with(notebook, "image = imgcall.decode(item)").outputs
    assert shown.output_type == "execute_result"
    assert "image/png" in shown.data
    assert shown.data["text/plain"].startswith("<DecodedImage 'ig_0894cf2ef651c7d1")

    (gallery,) = cell_with(notebook, "imgcall.show(").outputs
    html = gallery.data["text/html"]
    assert html.count("<img ") == 3
    assert "ImageGenerationFailedError" in html and "rejected by the safety system" in html

    stream = cell_with(notebook, "imgcall.watch(").outputs
    displays = [o for o in stream if o.output_type == "display_data"]
    assert len(displays) == 1, (
        "the replayed stream showed no image: does iter_images read stream events yet?"
    )
    # The partial previews were replaced in place by the final image, with its caption.
    figure = displays[0].data["text/html"]
    assert 'src="data:image/png;base64,' in figure and "<figcaption" in figure
    assert "ig_stream_1 · 96x64 · PNG" in figure
    assert "ig_stream_1" in displays[0].data["text/plain"]
    assert "partial" not in displays[0].data["text/plain"]
    (result,) = [o for o in stream if o.output_type == "execute_result"]
    assert result.data["text/plain"].startswith("[<DecodedImage 'ig_stream_1' PNG 96x64")
