"""Run ``examples/quickstart.ipynb`` and save it with its outputs, as GitHub shows it.

``python examples/run_quickstart.py`` (needs the test extra: ``pip install -e '.[test]'``).
The outputs are deterministic (bundled example files, no timing data), so running it
again changes nothing unless imgcall's output changed; ``tests/test_quickstart_notebook.py``
checks that the saved outputs are what a fresh run gives.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbclient
import nbformat

NOTEBOOK = Path(__file__).resolve().parent / "quickstart.ipynb"


def run(path: Path = NOTEBOOK) -> nbformat.NotebookNode:
    """Execute the notebook in a fresh kernel from its own folder; return it with outputs."""
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        record_timing=False,  # no timestamps: a re-run gives the same file
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = _joined_streams(cell.outputs)
    # Keep the kernel's name only: its version differs from machine to machine.
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def _joined_streams(outputs: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """One output per run of printed text: how the kernel chunks it depends on timing."""
    joined: list[nbformat.NotebookNode] = []
    for output in outputs:
        last = joined[-1] if joined else None
        if (
            output.output_type == "stream"
            and last is not None
            and last.output_type == "stream"
            and last.name == output.name
        ):
            last.text += output.text
        else:
            joined.append(output)
    return joined


if __name__ == "__main__":
    nbformat.write(run(), NOTEBOOK)
    print(f"wrote {NOTEBOOK}")
