"""The imgcall command line: every option, exit code and message; stdout and stderr apart."""

from __future__ import annotations

import io
import json
import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from PIL import Image

import imgcall
import imgcall.cli
from imgcall.cli import cli
from imgcall.image import human_bytes
from imgcall.manifest import MANIFEST_NAME
from imgcall.tempfiles import TEMP_SUFFIX
from tests.conftest import FIXTURES_DIR, ITEMS_DIR

from .helpers import item, noise_png, png

REPO = Path(__file__).resolve().parent.parent
RESPONSE = str(ITEMS_DIR / "response.json")
PNG_ITEM = str(ITEMS_DIR / "png.json")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str, input: bytes | str | None = None) -> Result:
    return runner.invoke(cli, list(args), input=input, catch_exceptions=False)


def write_json(path: Path, value: Any) -> str:
    path.write_text(json.dumps(value))
    return str(path)


def lines(text: str) -> list[str]:
    return text.splitlines()


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


# --- help and version ----------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["extract"], ["ls"]])
def test_help_has_a_description_and_examples(runner: CliRunner, command: list[str]) -> None:
    result = run(runner, *command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert "imgcall " in result.stdout.split("Examples:")[1]
    assert result.stderr == ""
    # Every example is a line of its own: none was folded into a paragraph by click.
    for line in result.stdout.splitlines():
        if "imgcall extract " in line or "imgcall ls " in line:
            assert line.lstrip().startswith(("imgcall ", "cat ")), line


def test_extract_help_lists_every_option(runner: CliRunner) -> None:
    text = run(runner, "extract", "-h").stdout
    for option in [
        "-o, --out",
        "-n, --name",
        "--on-conflict",
        "--convert",
        "--partials",
        "--strict-status",
        "--check",
        "--max-pixels",
        "--max-bytes",
        "--no-manifest",
        "--json",
        "-j, --jobs",
        "-q, --quiet",
    ]:
        assert option in text
    assert "Exit codes" in text


def test_version(runner: CliRunner) -> None:
    result = run(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("imgcall, version ")


def test_help_does_not_import_pydantic_or_pillow() -> None:
    code = (
        "import sys; from imgcall.cli import main; sys.argv=['imgcall','--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('pydantic', 'PIL', 'pybase64') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env()
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("command", [["extract", "-o", "{out}", "-q"], ["ls"]])
def test_a_well_formed_input_is_handled_without_pydantic(
    tmp_path: Path, command: list[str]
) -> None:
    # pydantic's import and the model's build cost more at start-up than the whole job on
    # a 40 MB response (bench/README.md); only an item that is not well formed needs it.
    argv = [arg.replace("{out}", str(tmp_path / "out")) for arg in command]
    argv.insert(1, RESPONSE)
    code = (
        f"import sys; from imgcall.cli import main; sys.argv=['imgcall', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print(sorted(m for m in ('pydantic', 'pydantic_core') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env()
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    if command[0] == "extract":
        saved = {path.name for path in (tmp_path / "out").iterdir()}
        assert saved == {"ig_68a1.png", "ig_68a2.jpg", "imgcall-manifest.jsonl"}


# --- extract: the main job -----------------------------------------------------------------


def test_extract_prints_one_line_per_saved_file(
    runner: CliRunner, tmp_path: Path, image_bytes: Callable[[str], bytes]
) -> None:
    result = run(runner, "extract", RESPONSE, "-o", "out")

    assert result.exit_code == 0
    assert lines(result.stdout) == [os.path.join("out", "ig_68a1.png"), "out/ig_68a2.jpg"]
    assert (tmp_path / "out" / "ig_68a1.png").read_bytes() == image_bytes("tiny.png")
    stderr = lines(result.stderr)
    assert stderr[0].startswith("warning: ") and "'ig_68a2'" in stderr[0]
    assert "generating" in stderr[0]
    assert stderr[-1] == (
        "imgcall: 2 saved, 0 already present, 0 skipped, 0 problems "
        f"(manifest: {os.path.join('out', MANIFEST_NAME)})"
    )


def test_output_defaults_to_the_current_folder(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "extract", PNG_ITEM)
    assert result.exit_code == 0
    assert result.stdout == "ig_png.png\n"
    assert (tmp_path / "ig_png.png").exists() and (tmp_path / MANIFEST_NAME).exists()


def test_several_inputs_in_one_run(runner: CliRunner, tmp_path: Path) -> None:
    result = run(
        runner, "extract", RESPONSE, PNG_ITEM, str(ITEMS_DIR / "items_list.json"), "-o", "o"
    )
    assert result.exit_code == 0
    assert len(lines(result.stdout)) == 5
    assert len((tmp_path / "o" / MANIFEST_NAME).read_text().splitlines()) == 5


def test_rerun_is_idempotent(runner: CliRunner) -> None:
    first = run(runner, "extract", RESPONSE, "-o", "out")
    second = run(runner, "extract", RESPONSE, "-o", "out")
    assert first.exit_code == second.exit_code == 0
    assert second.stdout == first.stdout  # the files that hold the images, either way
    assert "0 saved, 2 already present, 0 skipped, 0 problems" in second.stderr


# --- stdin -----------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [[], ["-"]])
def test_stdin(runner: CliRunner, tmp_path: Path, args: list[str]) -> None:
    payload = (ITEMS_DIR / "png.json").read_bytes()
    result = run(runner, "extract", *args, "-o", "out", "-n", "{stem}-{id}", input=payload)
    assert result.exit_code == 0
    assert result.stdout == os.path.join("out", "stdin-ig_png.png") + "\n"
    line = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text())
    assert line["input"] == "<stdin>" and line["location"] == "<stdin>"


def test_stdin_with_files(runner: CliRunner) -> None:
    payload = (ITEMS_DIR / "jpeg.json").read_bytes()
    result = run(runner, "extract", PNG_ITEM, "-", "-o", "out", input=payload)
    assert result.exit_code == 0
    assert lines(result.stdout) == ["out/ig_png.png", "out/ig_jpeg.jpg"]


def test_stdin_twice_is_a_usage_error(runner: CliRunner) -> None:
    result = run(runner, "extract", "-", "-", input="{}")
    assert result.exit_code == 2
    assert "only once" in result.stderr


def test_no_input_on_a_terminal_is_a_usage_error(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.BytesIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(imgcall.cli, "_stdin", lambda: Terminal())
    result = run(runner, "extract")
    assert result.exit_code == 2
    assert "standard input is a terminal" in result.stderr
    assert result.stdout == ""


def test_stdin_in_a_real_process(tmp_path: Path) -> None:
    payload = (ITEMS_DIR / "response.json").read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "imgcall", "extract", "-", "-o", str(tmp_path / "out")],
        input=payload,
        capture_output=True,
        env=subprocess_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines() == [
        str(tmp_path / "out" / "ig_68a1.png"),
        str(tmp_path / "out" / "ig_68a2.jpg"),
    ]
    assert b"2 saved" in done.stderr
    assert b"Traceback" not in done.stderr


def test_broken_stdin_in_a_real_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "imgcall", "extract", "-o", str(tmp_path / "out")],
        input=b'{"type": "image_generation_call", "id": ',
        capture_output=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert done.returncode == 2
    assert b"<stdin>" in done.stderr and b"JSON" in done.stderr
    assert b"Traceback" not in done.stderr
    # A run that saves nothing leaves nothing: no folder, no manifest.
    assert not (tmp_path / "out").exists()


# --- exit codes ------------------------------------------------------------------------------


def test_exit_1_when_some_item_fails_and_the_rest_is_saved(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = run(runner, "extract", PNG_ITEM, str(ITEMS_DIR / "status_failed.json"), "-o", "out")
    assert result.exit_code == 1
    assert result.stdout == "out/ig_png.png\n"
    problem, summary = lines(result.stderr)
    assert problem.startswith("error: ") and "status_failed.json" in problem
    assert "'ig_failed'" in problem and "the API reported status 'failed'" in problem
    assert "1 saved" in summary and "1 problem" in summary


def test_exit_1_when_every_item_fails(runner: CliRunner) -> None:
    result = run(runner, "extract", str(ITEMS_DIR / "bad_base64.json"), "-o", "out")
    assert result.exit_code == 1
    assert "offset 40" in result.stderr and "'ig_bad_b64'" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("content", ["{not json", ""])
def test_exit_2_for_unparseable_input(runner: CliRunner, tmp_path: Path, content: str) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(content)
    result = run(runner, "extract", str(broken), "-o", "out")
    assert result.exit_code == 2
    problem = lines(result.stderr)[0]
    assert problem.startswith(f"error: {broken}")  # names the input (and line, if any)
    assert "Traceback" not in result.stderr


def test_exit_2_for_a_missing_file_after_saving_the_rest(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "extract", PNG_ITEM, "missing.json", "-o", "out")
    assert result.exit_code == 2
    assert result.stdout == "out/ig_png.png\n"
    assert "error: cannot read missing.json" in result.stderr
    assert (tmp_path / "out" / "ig_png.png").exists()


def test_exit_1_for_a_broken_line_inside_json_lines(runner: CliRunner, tmp_path: Path) -> None:
    """A broken line is a problem of one item; the input as a whole was read: exit 1."""
    pytest.importorskip("imgcall.framing")  # JSON Lines come with the framing layer
    good = (ITEMS_DIR / "png.json").read_text().replace("\n", "")
    other = (ITEMS_DIR / "jpeg.json").read_text().replace("\n", "")
    source = tmp_path / "lines.jsonl"
    source.write_text(f'{good}\n{{"type": "image_gen\n{other}\n')
    result = run(runner, "extract", str(source), "-o", "out")
    assert result.exit_code == 1
    assert lines(result.stdout) == ["out/ig_png.png", "out/ig_jpeg.jpg"]
    assert f"error: {source}:2" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--on-conflict", "replace"], "--on-conflict"),
        (["--convert", "tiff"], "--convert"),
        (["--check", "paranoid"], "--check"),
        (["--max-pixels", "0"], "--max-pixels"),
        (["--max-bytes", "-5"], "--max-bytes"),
        (["--max-bytes", "lots"], "--max-bytes"),
        (["-j", "-1"], "--jobs"),
        (["--bogus"], "--bogus"),
        (["-n", "{nope}"], "unknown field 'nope'"),
        (["-n", "{id.__class__}"], "unknown field"),
        (["-n", "{id"], "template"),
        # Bounded before expanding: a MemoryError, and minutes at 7 GB, before the fix.
        (["-n", "{index:099999999999}"], "the width 99999999999 of {index:099999999999}"),
        (["-n", "{index:>999999999}"], "too large: a file name has at most 255 bytes"),
        (["-n", "{id:.1000}"], "the precision 1000"),
    ],
)
def test_exit_2_for_bad_options(runner: CliRunner, args: list[str], message: str) -> None:
    result = run(runner, "extract", PNG_ITEM, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_exit_2_when_the_output_folder_is_a_file(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    result = run(runner, "extract", PNG_ITEM, "-o", "taken")
    assert result.exit_code == 2
    assert "taken" in result.stderr


@pytest.mark.parametrize("payload", [{"object": "response", "output": []}, [], {"a": 1}])
def test_exit_3_when_no_image_is_found(runner: CliRunner, tmp_path: Path, payload: Any) -> None:
    source = write_json(tmp_path / "empty.json", payload)
    result = run(runner, "extract", source, "-o", "out")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == f"imgcall: no images found in {source}\n"
    assert not (tmp_path / "out").exists()


def test_exit_3_message_even_when_quiet(runner: CliRunner) -> None:
    result = run(runner, "extract", str(ITEMS_DIR / "wrong_type.json"), "-q")
    assert result.exit_code == 3
    assert "no images found" in result.stderr


def test_unreadable_input_wins_over_failed_items(runner: CliRunner) -> None:
    result = run(runner, "extract", str(ITEMS_DIR / "status_failed.json"), "missing.json")
    assert result.exit_code == 2


@pytest.mark.parametrize("fixture", sorted(p.name for p in ITEMS_DIR.glob("*.json")))
def test_no_traceback_for_any_fixture(runner: CliRunner, fixture: str) -> None:
    result = runner.invoke(cli, ["extract", str(ITEMS_DIR / fixture), "-o", "out"])
    assert result.exit_code in (0, 1, 2, 3)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr


def test_exit_code_mapping_is_in_one_place() -> None:
    assert imgcall.cli.exit_code_for(imgcall.InvalidInputError("x")) == 2
    assert imgcall.cli.exit_code_for(imgcall.OutputError("x")) == 1
    assert imgcall.cli.exit_code_for(imgcall.ImageGenerationFailedError("x")) == 1
    assert imgcall.cli.run_exit_code([], 0) == 3
    assert imgcall.cli.run_exit_code([], 4) == 0
    assert imgcall.cli.run_exit_code([1, 2, 1], 4) == 2


# --- messages ------------------------------------------------------------------------------


def test_control_characters_in_ids_are_escaped_on_the_terminal(
    runner: CliRunner, tmp_path: Path
) -> None:
    source = write_json(tmp_path / "evil.json", item("\x1b[2Jevil", None, "failed"))
    result = run(runner, "extract", source, "-o", "out")
    assert "\x1b" not in result.stderr
    assert "\\x1b[2Jevil" in result.stderr


# --- options -------------------------------------------------------------------------------


def test_json_output_has_the_manifest_fields(runner: CliRunner, tmp_path: Path) -> None:
    result = run(
        runner, "extract", RESPONSE, str(ITEMS_DIR / "status_failed.json"), "-o", "out", "--json"
    )
    assert result.exit_code == 1
    objects = [json.loads(line) for line in lines(result.stdout)]
    assert [o["outcome"] for o in objects] == ["saved", "saved", "failed"]
    for key in ("id", "status", "outcome", "path", "format", "width", "height", "bytes"):
        assert all(key in o for o in objects)
    for key in ("sha256", "location", "custom_id", "revised_prompt", "error"):
        assert all(key in o for o in objects)
    assert objects[0]["path"] == str((tmp_path / "out" / "ig_68a1.png").resolve())
    assert (objects[0]["width"], objects[0]["height"], objects[0]["format"]) == (16, 12, "PNG")
    assert objects[2]["id"] == "ig_failed" and "failed" in objects[2]["error"]
    manifest = [json.loads(x) for x in (tmp_path / "out" / MANIFEST_NAME).read_text().splitlines()]
    assert manifest == objects
    assert "error: " in result.stderr  # problems are still reported on stderr


def test_quiet_prints_only_errors(runner: CliRunner, tmp_path: Path) -> None:
    ok = run(runner, "extract", RESPONSE, "-o", "out", "-q")
    assert ok.exit_code == 0
    assert ok.stdout == "" and ok.stderr == ""
    assert (tmp_path / "out" / "ig_68a1.png").exists()
    bad = run(runner, "extract", str(ITEMS_DIR / "status_failed.json"), "-q", "-o", "out")
    assert bad.exit_code == 1
    assert bad.stdout == ""
    assert len(lines(bad.stderr)) == 1 and bad.stderr.startswith("error: ")


@pytest.mark.parametrize(
    ("policy", "code", "stdout", "fragment"),
    [
        ("error", 1, "", "already exists with different content"),
        ("skip", 0, "", "skipped: "),
        ("rename", 0, "out/ig_png-1.png\n", "1 saved"),
        ("overwrite", 0, "out/ig_png.png\n", "1 saved (1 overwritten)"),
    ],
)
def test_on_conflict(
    runner: CliRunner, tmp_path: Path, policy: str, code: int, stdout: str, fragment: str
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "ig_png.png").write_bytes(png((1, 2, 3)))
    result = run(runner, "extract", PNG_ITEM, "-o", "out", "--on-conflict", policy)
    assert result.exit_code == code
    assert result.stdout == stdout
    assert fragment in result.stderr
    if policy == "error":
        assert "--on-conflict" in result.stderr


def test_name_template(runner: CliRunner) -> None:
    result = run(runner, "extract", RESPONSE, "-o", "out", "-n", "{stem}-{index:02d}-{status}")
    assert lines(result.stdout) == [
        "out/response-00-completed.png",
        "out/response-01-generating.jpg",
    ]


@pytest.mark.parametrize(
    ("target", "ext", "fmt"),
    [("png", "png", "PNG"), ("jpeg", "jpg", "JPEG"), ("webp", "webp", "WEBP")],
)
def test_convert(runner: CliRunner, tmp_path: Path, target: str, ext: str, fmt: str) -> None:
    result = run(runner, "extract", str(ITEMS_DIR / "gif.json"), "-o", "out", "--convert", target)
    assert result.exit_code == 0
    assert result.stdout == f"out/ig_gif.{ext}\n"
    with Image.open(tmp_path / "out" / f"ig_gif.{ext}") as image:
        assert image.format == fmt
    # The GIF carries no C2PA manifest: there is no provenance to lose, so no warning.
    assert "C2PA" not in result.stderr


def test_convert_warns_only_when_the_bytes_carry_c2pa(runner: CliRunner, tmp_path: Path) -> None:
    from tests.c2pa_helpers import picture, sign

    payload = [
        item("ig_signed", sign(picture("PNG"), "PNG")),
        item("ig_plain", picture("PNG")),
    ]
    (tmp_path / "in.json").write_text(json.dumps(payload))
    result = run(runner, "extract", "in.json", "-o", "out", "--convert", "jpeg")
    assert result.exit_code == 0
    assert "warning: 1 image carried C2PA provenance, lost by re-encoding to jpeg" in result.stderr
    records = [json.loads(x) for x in (tmp_path / "out" / MANIFEST_NAME).read_text().splitlines()]
    assert [(r["id"], r["c2pa"], r["note"] is not None) for r in records] == [
        ("ig_signed", False, True),
        ("ig_plain", False, False),
    ]


def test_no_manifest(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "extract", PNG_ITEM, "-o", "out", "--no-manifest")
    assert result.exit_code == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["ig_png.png"]
    assert "manifest" not in result.stderr


def test_summary_does_not_name_a_manifest_that_could_not_be_written(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "out" / MANIFEST_NAME).mkdir(parents=True)  # a folder in the way
    result = run(runner, "extract", PNG_ITEM, "-o", "out")
    assert result.exit_code == 1
    assert result.stdout == "out/ig_png.png\n"
    assert "cannot write the manifest" in result.stderr
    assert "(manifest:" not in result.stderr.splitlines()[-1]


def test_check_options(runner: CliRunner) -> None:
    truncated = str(ITEMS_DIR / "truncated_png.json")
    fast = run(runner, "extract", truncated, "-o", "a")
    assert fast.exit_code == 1 and "'ig_truncated'" in fast.stderr
    none = run(runner, "extract", truncated, "-o", "b", "--check", "none")
    assert none.exit_code == 0 and none.stdout == "b/ig_truncated.png\n"
    full = run(runner, "extract", PNG_ITEM, "-o", "c", "--check", "full")
    assert full.exit_code == 0


def test_limits(runner: CliRunner) -> None:
    pixels = run(runner, "extract", PNG_ITEM, "-o", "a", "--max-pixels", "100")
    assert pixels.exit_code == 1 and "pixels" in pixels.stderr
    size = run(runner, "extract", PNG_ITEM, "-o", "b", "--max-bytes", "100")
    assert size.exit_code == 1 and "bytes" in size.stderr
    roomy = run(
        runner, "extract", PNG_ITEM, "-o", "c", "--max-pixels", "1000", "--max-bytes", "10000"
    )
    assert roomy.exit_code == 0


def test_strict_status(runner: CliRunner) -> None:
    source = str(ITEMS_DIR / "status_generating.json")
    lenient = run(runner, "extract", source, "-o", "a")
    assert lenient.exit_code == 0 and "warning: " in lenient.stderr
    strict = run(runner, "extract", source, "-o", "b", "--strict-status")
    assert strict.exit_code == 1 and "(--strict-status is set)" in strict.stderr
    assert "strict_status" not in strict.stderr


def test_partials_flag_is_accepted(runner: CliRunner) -> None:
    result = run(runner, "extract", PNG_ITEM, "-o", "out", "--partials")
    assert result.exit_code == 0 and result.stdout == "out/ig_png.png\n"


@pytest.mark.parametrize("jobs", ["0", "2", "4"])
def test_jobs_give_the_same_output(runner: CliRunner, tmp_path: Path, jobs: str) -> None:
    items = [item(f"i{n % 5}", png((n, n, 0))) for n in range(12)] + [item("x", None, "failed")]
    source = write_json(tmp_path / "many.json", items)
    serial = run(runner, "extract", source, "-o", "serial", "-j", "1")
    parallel = run(runner, "extract", source, "-o", "parallel", "-j", jobs)
    assert serial.exit_code == parallel.exit_code == 1
    assert serial.stdout.replace("serial", "X") == parallel.stdout.replace("parallel", "X")


# --- safety --------------------------------------------------------------------------------

HOSTILE = [
    "../x",
    "../../up",
    "/etc/x",
    "a/b",
    "..",
    ".",
    "CON",
    "nul.txt",
    "a\x00b",
    "z" * 300,
    "\x07bell",
    "\r\n",
]


@pytest.mark.parametrize("template", ["{id}", "../{id}", "{custom_id}/{id}", "/abs/{index}"])
def test_hostile_ids_stay_inside_the_output_folder(
    runner: CliRunner, tmp_path: Path, template: str
) -> None:
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    items = [item(hid, png((i, 0, 0))) for i, hid in enumerate(HOSTILE)]
    source = write_json(tmp_path / "hostile.json", items)
    out = sandbox / "out"

    result = run(runner, "extract", source, "-o", str(out), "-n", template)

    assert result.exit_code == 0, result.stderr
    assert len(lines(result.stdout)) == len(HOSTILE)
    everything = [p for p in tmp_path.rglob("*") if p.is_file()]
    outside = [p for p in everything if p.parent != out and p != tmp_path / "hostile.json"]
    assert outside == []
    assert len(list(out.iterdir())) == len(HOSTILE) + 1  # one file each, and the manifest
    assert all(len(p.name.encode()) <= 255 for p in out.iterdir())


def test_write_failure_in_a_real_process(tmp_path: Path) -> None:
    """A file-size limit makes the big image fail with EFBIG; nothing half-written stays."""
    big = noise_png(120)  # about 43 kB: over the limit below
    items = [item("small1", png((1, 1, 1))), item("big", big), item("small2", png((2, 2, 2)))]
    source = write_json(tmp_path / "items.json", items)
    out = tmp_path / "out"
    limit = 20_000
    assert len(big) > limit
    child = textwrap.dedent(
        f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        from imgcall.cli import main
        sys.argv = ["imgcall", "extract", {source!r}, "-o", {str(out)!r}]
        main()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    problem = next(line for line in done.stderr.splitlines() if line.startswith("error: "))
    assert "'big'" in problem and "file-size limit" in problem
    assert str(out.resolve() / "big.png") in problem
    assert done.stdout.splitlines() == [str(out / "small1.png"), str(out / "small2.png")]
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "small1.png", "small2.png"]
    assert not [p for p in out.iterdir() if p.name.endswith(TEMP_SUFFIX)]
    outcomes = [json.loads(x)["outcome"] for x in (out / MANIFEST_NAME).read_text().splitlines()]
    assert outcomes == ["saved", "failed", "saved"]


# --- ls ------------------------------------------------------------------------------------


def test_ls_table_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    before = sorted(tmp_path.rglob("*"))
    result = run(runner, "ls", RESPONSE, str(ITEMS_DIR / "bad_base64.json"))
    assert sorted(tmp_path.rglob("*")) == before
    assert result.exit_code == 1
    header, first, second, bad = lines(result.stdout)
    assert header.split() == ["#", "ID", "STATUS", "FORMAT", "WxH", "SIZE", "LOCATION", "NOTE"]
    assert first.split()[:6] == ["0", "ig_68a1", "completed", "PNG", "16x12", "233"]
    assert "response.json#/output/1" in first
    assert second.split()[:5] == ["1", "ig_68a2", "generating", "JPEG", "16x12"]
    assert "generating" in second.split("#/output/2")[1]
    assert bad.split()[:4] == ["2", "ig_bad_b64", "completed", "-"]
    assert "not valid base64" in bad
    assert result.stderr == "imgcall: 2 images, 1 problem\n"


def test_ls_json(runner: CliRunner) -> None:
    result = run(runner, "ls", RESPONSE, "--json")
    assert result.exit_code == 0
    objects = [json.loads(line) for line in lines(result.stdout)]
    assert [o["id"] for o in objects] == ["ig_68a1", "ig_68a2"]
    first = objects[0]
    assert (first["format"], first["width"], first["height"], first["bytes"]) == (
        "PNG",
        16,
        12,
        233,
    )
    assert first["status"] == "completed" and first["path"] is None
    assert len(first["sha256"]) == 64


def test_ls_stdin(runner: CliRunner) -> None:
    result = run(runner, "ls", input=(ITEMS_DIR / "png.json").read_bytes())
    assert result.exit_code == 0
    assert "<stdin>" in result.stdout and "ig_png" in result.stdout


def test_ls_exit_codes(runner: CliRunner, tmp_path: Path) -> None:
    assert run(runner, "ls", PNG_ITEM).exit_code == 0
    assert run(runner, "ls", str(ITEMS_DIR / "wrong_type.json")).exit_code == 3
    missing = run(runner, "ls", "missing.json")
    assert missing.exit_code == 2
    assert "cannot read missing.json" in missing.stderr
    assert run(runner, "ls", "--bogus").exit_code == 2


# --- the README stays true -----------------------------------------------------------------


def readme_block(section: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    body = text.split(f"## {section}\n", 1)[1]
    return body.split("```console\n", 1)[1].split("```", 1)[0].splitlines()


def test_readme_quickstart_runs_as_shown(runner: CliRunner, tmp_path: Path) -> None:
    command, *expected = readme_block("Quickstart")
    install, imgcall_command = command.removeprefix("$ ").split(" && ")
    assert install == "pip install -e ."
    args = shlex.split(imgcall_command)
    assert args[0] == "imgcall"
    shutil.copytree(ITEMS_DIR, tmp_path / "fixtures" / "items")
    result = run(runner, *args[1:])
    assert result.exit_code == 0
    assert lines(result.output) == expected


def test_readme_ls_example_runs_as_shown(runner: CliRunner, tmp_path: Path) -> None:
    block = readme_block("Command line")
    start = next(i for i, line in enumerate(block) if line.startswith("$ imgcall ls "))
    args = shlex.split(block[start].removeprefix("$ "))
    shutil.copytree(ITEMS_DIR, tmp_path / "fixtures" / "items")
    result = run(runner, *args[1:])
    assert result.exit_code == 1
    assert lines(result.output) == block[start + 1 :]


# --- what a new user tripped over (issue 14) -----------------------------------------------


def test_help_shows_plain_defaults_that_are_the_librarys(runner: CliRunner) -> None:
    text = " ".join(run(runner, "extract", "--help").stdout.split())
    assert f"[default: {imgcall.cli.DEFAULT_MAX_PIXELS}; x>=1]" in text
    assert f"[default: {imgcall.cli.DEFAULT_MAX_BYTES}; x>=1]" in text
    assert "(64000000)" not in text
    limits = imgcall.Limits()
    assert limits.max_pixels == imgcall.cli.DEFAULT_MAX_PIXELS
    assert limits.max_bytes == imgcall.cli.DEFAULT_MAX_BYTES
    assert limits.max_total_pixels == imgcall.cli.DEFAULT_MAX_TOTAL_PIXELS
    assert limits.max_frames == imgcall.cli.DEFAULT_MAX_FRAMES
    # {index} counts problems too, and --help says so.
    assert "{index} is the item's 0-based position in the run, problems included" in text


@pytest.mark.parametrize(
    ("args", "flag"),
    [(["--max-pixels", "100"], "--max-pixels"), (["--max-bytes", "100"], "--max-bytes")],
)
def test_limit_errors_name_the_flag_not_the_python_argument(
    runner: CliRunner, args: list[str], flag: str
) -> None:
    result = run(runner, "extract", PNG_ITEM, "-o", "out", *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    (problem,) = [line for line in lines(result.stderr) if line.startswith("error: ")]
    assert problem.endswith(f"(raise {flag} to allow it)")
    assert "Limits(" not in result.stderr


def test_a_conflict_error_names_the_flag(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "ig_png.png").write_bytes(png((9, 9, 9)))
    result = run(runner, "extract", PNG_ITEM, "-o", "out")
    assert result.exit_code == 1
    assert "choose what to do with --on-conflict rename, skip or overwrite" in result.stderr
    assert "on_conflict '" not in result.stderr


def test_an_output_folder_that_cannot_be_created_is_one_line_and_exit_2(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "taken").write_text("a file")
    items = [item(f"i{n}", png((n, 0, 0))) for n in range(50)]
    source = write_json(tmp_path / "many.json", items)
    result = run(runner, "extract", source, "-o", "taken/sub")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert lines(result.stderr) == [
        f"error: cannot create the output folder {tmp_path / 'taken' / 'sub'}: Not a directory"
    ]


def test_an_output_folder_under_proc_is_refused_before_any_work(runner: CliRunner) -> None:
    if not os.path.isdir("/proc/self"):
        pytest.skip("needs /proc")
    result = run(runner, "extract", RESPONSE, "-o", "/proc/nope/x")
    assert (result.exit_code, result.stdout) == (2, "")
    (line,) = lines(result.stderr)
    assert line.startswith("error: cannot create the output folder /proc/nope/x: ")


def test_a_mistyped_input_leaves_no_folder_and_no_manifest(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = run(runner, "extract", "nope.json", "-o", "t/m")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert lines(result.stderr)[0] == "error: cannot read nope.json: No such file or directory"
    assert not (tmp_path / "t").exists()


def test_a_run_that_saves_nothing_keeps_the_earlier_manifest(
    runner: CliRunner, tmp_path: Path
) -> None:
    assert run(runner, "extract", PNG_ITEM, "-o", "out").exit_code == 0
    before = (tmp_path / "out" / MANIFEST_NAME).read_bytes()
    result = run(runner, "extract", str(ITEMS_DIR / "status_failed.json"), "-o", "out")
    assert result.exit_code == 1
    assert (tmp_path / "out" / MANIFEST_NAME).read_bytes() == before
    assert "(manifest:" not in result.stderr  # the summary names no manifest it did not write


def test_problems_before_the_first_image_are_in_the_manifest_in_order(
    runner: CliRunner, tmp_path: Path
) -> None:
    items = [item("bad1", None, "failed"), item("bad2", None, "failed"), item("ok", png())]
    result = run(runner, "extract", write_json(tmp_path / "x.json", items), "-o", "out")
    assert result.exit_code == 1
    manifest = (tmp_path / "out" / MANIFEST_NAME).read_text().splitlines()
    assert [(json.loads(x)["id"], json.loads(x)["outcome"]) for x in manifest] == [
        ("bad1", "failed"),
        ("bad2", "failed"),
        ("ok", "saved"),
    ]


def test_convert_saves_an_svg_as_svg_with_a_warning(runner: CliRunner, tmp_path: Path) -> None:
    source = str(ITEMS_DIR / "svg.json")
    result = run(runner, "extract", source, str(PNG_ITEM), "-o", "out", "--convert", "png")
    assert result.exit_code == 0
    assert lines(result.stdout) == ["out/ig_svg.svg", "out/ig_png.png"]
    assert lines(result.stderr)[0] == (
        f"warning: {source}: item 'ig_svg': an SVG image is never rasterised: saved as .svg, "
        "not converted to PNG"
    )
    assert (tmp_path / "out" / "ig_svg.svg").read_bytes() == (
        FIXTURES_DIR / "images" / "tiny.svg"
    ).read_bytes()


def test_identical_images_in_one_request_are_a_duplicate_not_already_present(
    runner: CliRunner, tmp_path: Path
) -> None:
    response = {
        "object": "response",
        "id": "resp_1",
        "output": [item("same", png()), item("same", png())],
    }
    result = run(runner, "extract", write_json(tmp_path / "r.json", response), "-o", "out")
    assert result.exit_code == 0
    assert lines(result.stdout) == ["out/same.png", "out/same.png"]
    stderr = lines(result.stderr)
    assert stderr[0].startswith("note: ") and stderr[0].endswith(
        ": item 'same': duplicate of same.png (the same image, saved once)"
    )
    assert stderr[-1].startswith("imgcall: 1 saved, 1 duplicate, 0 already present, ")
    records = [json.loads(x) for x in (tmp_path / "out" / MANIFEST_NAME).read_text().splitlines()]
    assert [(r["outcome"], r["duplicate_of"]) for r in records] == [
        ("saved", None),
        ("exists", "same.png"),
    ]
    # Run again: now both are simply already there.
    again = run(runner, "extract", str(tmp_path / "r.json"), "-o", "out")
    assert lines(again.stderr)[-1].startswith("imgcall: 0 saved, 1 duplicate, 1 already present")


def test_ls_partials(runner: CliRunner) -> None:
    stream = str(FIXTURES_DIR / "envelopes" / "openai_stream.sse")
    plain = run(runner, "ls", stream)
    with_partials = run(runner, "ls", stream, "--partials")
    assert plain.exit_code == with_partials.exit_code == 0
    assert "partial" not in plain.stdout
    rows = lines(with_partials.stdout)[1:]
    assert [row.split()[1] for row in rows] == ["ig_stream_a"] * 3 + ["ig_stream_b"]
    assert rows[0].endswith("partial 0") and rows[1].endswith("partial 1")
    assert with_partials.stderr == "imgcall: 4 images, 0 problems\n"
    as_json = run(runner, "ls", stream, "--partials", "--json")
    objects = [json.loads(x) for x in lines(as_json.stdout)]
    assert [o["partial_index"] for o in objects] == [0, 1, None, None]


# Ctrl-C and closed pipes


def test_ctrl_c_during_a_write_finishes_that_file_then_stops_with_130(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imgcall.saverun

    real_try_write = imgcall.saverun.try_write
    calls: list[str] = []

    def interrupted_while_writing(path: Path, *args: Any, **kwargs: Any) -> Any:
        calls.append(path.name)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of this write
        return real_try_write(path, *args, **kwargs)

    monkeypatch.setattr(imgcall.saverun, "try_write", interrupted_while_writing)
    items = [item(f"i{n}", png((n, 0, 0))) for n in range(5)]
    result = run(runner, "extract", write_json(tmp_path / "x.json", items), "-o", "out")

    assert result.exit_code == 130
    assert calls == ["i0.png", "i1.png"]  # the second file was finished, no third begun
    assert lines(result.stdout) == ["out/i0.png", "out/i1.png"]
    stderr = lines(result.stderr)
    assert stderr[0].startswith("imgcall: 2 saved, 0 already present, 0 skipped, 0 problems")
    assert stderr[1].startswith("imgcall: interrupted after 2 images;")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["i0.png", "i1.png", MANIFEST_NAME]
    manifest = [json.loads(x) for x in (out / MANIFEST_NAME).read_text().splitlines()]
    assert [m["id"] for m in manifest] == ["i0", "i1"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_a_run_started_with_ctrl_c_ignored_keeps_ignoring_it(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imgcall.saverun

    real_try_write = imgcall.saverun.try_write

    def interrupted_while_writing(path: Path, *args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), signal.SIGINT)
        return real_try_write(path, *args, **kwargs)

    monkeypatch.setattr(imgcall.saverun, "try_write", interrupted_while_writing)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # what nohup and `cmd &` do
    try:
        items = [item(f"i{n}", png((n, 0, 0))) for n in range(3)]
        result = run(runner, "extract", write_json(tmp_path / "x.json", items), "-o", "out")
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # left as it was
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result.exit_code == 0, result.stderr
    assert lines(result.stdout) == ["out/i0.png", "out/i1.png", "out/i2.png"]


def lines_of(stream: Any, n: int, timeout: float = 60) -> list[bytes]:
    """The first ``n`` lines a child process writes, waiting at most ``timeout`` seconds."""
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 1)
        if ready:
            line = stream.readline()
            if not line:
                break
            got.append(line)
    return got


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
def test_ctrl_c_in_a_real_process_prints_the_summary_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "imgcall", "extract", "-o", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    )
    assert child.stdin is not None and child.stdout is not None
    with child:
        try:
            # JSON Lines from a live pipe: two items, then nothing more for now.
            for n in range(2):
                line = json.dumps(item(f"live{n}", png((n, 9, 9)))).encode() + b"\n"
                child.stdin.write(line)
            child.stdin.flush()
            first = lines_of(child.stdout, 1)
            assert first == [str(out / "live0.png").encode() + b"\n"]
            child.send_signal(signal.SIGINT)  # while it waits for the next line
            _, stderr = child.communicate(timeout=60)
        finally:
            child.kill()
    assert child.returncode == 130
    text = stderr.decode()
    assert "Traceback" not in text and "Aborted" not in text
    assert "imgcall: 1 saved, 0 already present" in text
    assert "imgcall: interrupted after 1 image;" in text
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "live0.png"]
    manifest = (out / MANIFEST_NAME).read_text().splitlines()
    assert [json.loads(x)["id"] for x in manifest] == ["live0"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGPIPE conventions are POSIX")
def test_a_closed_pipe_stops_quietly_with_141(tmp_path: Path) -> None:
    items = [item(f"p{n}", png((n % 256, n // 256, 0))) for n in range(600)]
    source = write_json(tmp_path / "many.json", items)
    child = subprocess.Popen(
        [sys.executable, "-m", "imgcall", "extract", source, "-o", "out", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
        cwd=tmp_path,
    )
    assert child.stdout is not None and child.stderr is not None
    with child:
        try:
            assert len(lines_of(child.stdout, 2)) == 2  # what `| head -2` reads
            child.stdout.close()
            stderr = child.stderr.read()
            child.wait(timeout=60)
        finally:
            child.kill()
    assert child.returncode == 141
    assert stderr == b""  # no traceback, no "Exception ignored", no summary
    saved = [p for p in (tmp_path / "out").iterdir() if p.suffix == ".png"]
    manifest = (tmp_path / "out" / MANIFEST_NAME).read_text().splitlines()
    assert 2 <= len(saved) < 600 and len(manifest) == len(saved)  # stopped, consistent
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(TEMP_SUFFIX)]


def test_ls_into_a_closed_pipe_exits_141(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def closed(*args: Any, **kwargs: Any) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(imgcall.cli.click, "echo", closed)
    result = run(runner, "ls", RESPONSE)
    assert (result.exit_code, result.stdout, result.stderr) == (141, "", "")


# the progress bar


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_makes_way_for_every_printed_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imgcall._progress

    monkeypatch.setattr(imgcall._progress, "DELAY", 0.0)
    monkeypatch.setattr(imgcall.cli, "_stderr_is_tty", lambda: True)
    items = [item(f"g{n}", png((n, 1, 1)), status="generating") for n in range(5)]
    result = run(runner, "extract", write_json(tmp_path / "x.json", items), "-o", "out")

    assert result.exit_code == 0
    assert lines(result.stdout) == [f"out/g{n}.png" for n in range(5)]  # never a bar in it
    erase = "\r\x1b[2K"
    shown = result.stderr.split("\n")  # not splitlines(): "\r" is the bar's own
    assert shown[-1] == "" and len(shown) == 5 + 2 + 1  # 5 warnings, the bar, the summary
    # Every line printed on stderr is what is left on screen after the last erase: a
    # warning whole, never a bar glued to it...
    for printed in shown[:5]:
        assert printed.split(erase)[-1].startswith("warning: "), printed
        assert printed.startswith((erase, "warning: "))
    # ... and the bar's last frame, on a line of its own before the summary, says 100%.
    final = shown[5].split(erase)[-1]
    assert final.startswith("imgcall  [") and final.endswith("100%  5 images")
    assert shown[6].startswith("imgcall: 5 saved")
    # The output is in order: each path on stdout came after the bar was erased.
    assert "[" not in result.stdout


def test_progress_for_standard_input_counts_the_bytes_read(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imgcall._progress

    monkeypatch.setattr(imgcall._progress, "DELAY", 0.0)
    monkeypatch.setattr(imgcall.cli, "_stderr_is_tty", lambda: True)
    payload = (ITEMS_DIR / "response.json").read_bytes()
    result = run(runner, "extract", "-", "-o", "out", input=payload)
    assert result.exit_code == 0
    final = result.stderr.split("\n")[-3].split("\r\x1b[2K")[-1]
    assert final == f"imgcall  {human_bytes(len(payload))} read  2 images"  # all of it


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imgcall._progress

    monkeypatch.setattr(imgcall._progress, "DELAY", 0.0)
    result = run(runner, "extract", PNG_ITEM, "-o", "out")
    summary = "imgcall: 1 saved, 0 already present, 0 skipped, 0 problems"
    assert lines(result.stderr) == [f"{summary} (manifest: out/{MANIFEST_NAME})"]


def test_no_progress_bar_when_quiet(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    import imgcall._progress

    monkeypatch.setattr(imgcall._progress, "DELAY", 0.0)
    monkeypatch.setattr(imgcall.cli, "_stderr_is_tty", lambda: True)
    result = run(runner, "extract", PNG_ITEM, "-o", "out", "-q")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_on_a_real_pseudo_terminal(tmp_path: Path) -> None:
    import pty

    items = [item(f"t{n}", png((n, 2, 2)), status="generating") for n in range(40)]
    source = write_json(tmp_path / "x.json", items)
    code = (
        "import sys, imgcall._progress, imgcall.cli\n"
        "imgcall._progress.DELAY = 0.0\n"
        f"sys.argv = ['imgcall', 'extract', {source!r}, '-o', 'out']\n"
        "imgcall.cli.main()\n"
    )
    master, slave = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=subprocess_env(),
        cwd=tmp_path,
    )
    os.close(slave)
    screen = b""
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        stdout, _ = child.communicate(timeout=60)
    finally:
        os.close(master)
        child.kill()
        child.wait()
    assert child.returncode == 0
    assert stdout.decode().splitlines() == [f"out/t{n}.png" for n in range(40)]
    text = screen.decode().replace("\r\n", "\n")
    erase = "\r\x1b[2K"
    assert erase in text
    shown = text.split("\n")
    for line in shown[:-2]:
        visible = line.split(erase)[-1]  # what the terminal shows once the line is done
        assert visible.startswith("warning: ") or visible.endswith("100%  40 images"), line
    assert shown[-2].startswith("imgcall: 40 saved")


def test_exit_2_when_another_run_holds_the_output_folder(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imgcall.folderlock as folderlock

    monkeypatch.setattr(folderlock, "LOCK_WAIT", 0.1)
    out = tmp_path / "out"
    out.mkdir()
    holder = folderlock.FolderLock(out)
    holder.acquire()
    try:
        result = run(runner, "extract", RESPONSE, "-o", "out")
    finally:
        holder.release()
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: the output folder {out.resolve()} is in use by")
    assert f"(pid {os.getpid()} on " in result.stderr and "Traceback" not in result.stderr
    assert list(out.iterdir()) == []


def test_readme_test_command_is_what_ci_runs() -> None:
    (command,) = readme_block("Development")
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert command.removeprefix("$ ") == ci[-1]
    assert command.startswith("$ sh scripts/install-test-tools && pip install -e '.[test]'")


def test_the_install_script_is_quick_when_the_tools_are_there(tmp_path: Path) -> None:
    # Stand-ins for chromium and chromedriver on PATH: the script must not reach apt-get.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("chromium", "chromedriver"):
        (bin_dir / name).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / name).chmod(0o755)
    (bin_dir / "apt-get").write_text("#!/bin/sh\necho apt-get was run >&2\nexit 9\n")
    (bin_dir / "apt-get").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    done = subprocess.run(
        ["sh", str(REPO / "scripts" / "install-test-tools")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_install_script_installs_the_debian_packages_when_missing(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    (bin_dir / "id").write_text("#!/bin/sh\necho 0\n")  # as root
    for tool in ("apt-get", "id"):
        (bin_dir / tool).chmod(0o755)
    # Only the stand-ins and the shell's own tools: no chromium on this PATH.
    sh = shutil.which("sh")
    assert sh is not None
    (bin_dir / "sh").symlink_to(sh)
    done = subprocess.run(
        [sh, str(REPO / "scripts" / "install-test-tools")],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert len(calls) == 2 and calls[0].endswith("update -qq")
    assert calls[1].endswith("install -y -qq --no-install-recommends chromium chromium-driver")


# --- gallery, sidecars, provenance -----------------------------------------------------------


def signed_batch(tmp_path: Path) -> str:
    from tests.c2pa_helpers import picture, sign

    payload = [
        item("ig_signed", sign(picture("PNG"), "PNG"), revised_prompt="signed one"),
        item("ig_plain", png(), revised_prompt="plain one"),
        item("ig_failed", None, status="failed", error={"code": "moderation_blocked"}),
    ]
    return write_json(tmp_path / "in.json", payload)


def test_extract_html_writes_the_gallery_at_the_end(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "extract", signed_batch(tmp_path), "-o", "out", "--html", "--sidecar")
    assert result.exit_code == 1  # the failed item
    assert lines(result.stdout) == ["out/ig_signed.png", "out/ig_plain.png"]
    assert (
        "imgcall: gallery out/index.html: 2 images (1 with C2PA), 1 not saved; "
        "0 thumbnails made, 0 reused" in result.stderr
    )
    page = (tmp_path / "out" / "index.html").read_text()
    assert "signed one" in page and "moderation_blocked" in page
    assert sorted(p.name for p in (tmp_path / "out").glob("*.json")) == [
        "ig_plain.json",
        "ig_signed.json",
    ]
    assert json.loads((tmp_path / "out" / "ig_signed.json").read_text())["c2pa"] is True


def test_extract_html_needs_the_manifest(runner: CliRunner) -> None:
    result = run(runner, "extract", PNG_ITEM, "-o", "out", "--html", "--no-manifest")
    assert result.exit_code == 2 and "drop --no-manifest" in result.stderr
    assert result.stdout == ""


def test_gallery_rebuilds_the_page_of_an_earlier_run(runner: CliRunner, tmp_path: Path) -> None:
    assert run(runner, "extract", signed_batch(tmp_path), "-o", "out", "-q").exit_code == 1
    result = run(runner, "gallery", "out")
    assert result.exit_code == 0
    assert result.stdout == "out/index.html\n"
    assert result.stderr.startswith("imgcall: gallery out/index.html: 2 images (1 with C2PA)")
    assert run(runner, "gallery", "out", "-q").stderr == ""


def test_gallery_of_a_folder_without_a_manifest(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run(runner, "gallery", "empty")
    assert result.exit_code == 2 and result.stdout == ""
    assert "has no imgcall-manifest.jsonl" in result.stderr


def test_gallery_never_replaces_someone_elses_index_html(runner: CliRunner, tmp_path: Path) -> None:
    assert run(runner, "extract", PNG_ITEM, "-o", "out", "-q").exit_code == 0
    (tmp_path / "out" / "index.html").write_text("mine")
    result = run(runner, "gallery", "out")
    assert result.exit_code == 1 and "is not a gallery imgcall wrote" in result.stderr
    assert (tmp_path / "out" / "index.html").read_text() == "mine"


def test_ls_notes_c2pa_and_ls_json_has_the_field(runner: CliRunner, tmp_path: Path) -> None:
    source = signed_batch(tmp_path)
    table = run(runner, "ls", source)
    rows = table.stdout.splitlines()
    assert rows[1].split()[1] == "ig_signed" and rows[1].rstrip().endswith("C2PA")
    assert "C2PA" not in rows[2]
    records = [json.loads(x) for x in run(runner, "ls", source, "--json").stdout.splitlines()]
    assert [r["c2pa"] for r in records] == [True, False, None]


def test_embed_metadata_on_the_command_line(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "extract", signed_batch(tmp_path), "-o", "out", "--embed-metadata")
    assert (
        "ig_signed" in result.stderr
        and "metadata not embedded: the file carries C2PA" in result.stderr
    )
    with Image.open(tmp_path / "out" / "ig_plain.png") as image:
        assert image.text["Description"] == "plain one"  # type: ignore[attr-defined]


def test_provenance_reads_and_validates_offline(runner: CliRunner, tmp_path: Path) -> None:
    assert run(runner, "extract", signed_batch(tmp_path), "-o", "out", "-q").exit_code == 1
    result = run(runner, "provenance", "out")
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()
    assert rows[0].split() == ["FILE", "C2PA", "STATE", "GENERATOR", "ISSUER", "SIGNED"]
    assert len(rows) == 3  # the two images; the manifest is not an image
    plain, signed = rows[1], rows[2]
    assert plain.split()[:3] == ["out/ig_plain.png", "no", "none"]
    assert signed.split()[:3] == ["out/ig_signed.png", "yes", "Valid"]
    assert "signer not on a trust list" in signed and "imgcall tests" in signed
    found = json.loads(run(runner, "provenance", "out/ig_signed.png", "--json").stdout)
    assert (found["path"], found["embedded"], found["state"]) == (
        "out/ig_signed.png",
        True,
        "Valid",
    )


def test_provenance_without_the_extra_checks_presence(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    assert run(runner, "extract", signed_batch(tmp_path), "-o", "out", "-q").exit_code == 1
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "c2pa" else real(name, *a)
    )
    result = run(runner, "provenance", "out/ig_signed.png", "out/missing.png")
    assert result.exit_code == 2
    assert result.stdout.splitlines()[1].split()[:3] == ["out/ig_signed.png", "yes", "not"]
    assert "pip install 'imgcall[c2pa]'" in result.stderr
    assert "out/missing.png: no such file or folder" in result.stderr


def test_animation_limits_have_flags_and_errors_name_them(
    runner: CliRunner, tmp_path: Path
) -> None:
    from tests.animations import gif_bomb

    source = write_json(tmp_path / "anim.json", item("ig_anim", gif_bomb(16, 12)))
    result = run(runner, "extract", source, "-o", "out", "--check", "full", "--max-frames", "5")
    assert result.exit_code == 1 and result.stdout == ""
    assert "over the limit of 5 (raise --max-frames to decode them all)" in result.stderr
    result = run(
        runner, "extract", source, "-o", "o2", "--check", "full", "--max-total-pixels", "300"
    )
    assert result.exit_code == 1
    assert "(raise --max-total-pixels to decode them all)" in result.stderr
    assert "Limits(" not in result.stderr
    ok = run(runner, "extract", source, "-o", "o3", "--check", "full")
    assert ok.exit_code == 0 and ok.stdout.strip().endswith("ig_anim.gif")


def test_extract_on_a_small_input_imports_only_what_it_uses(tmp_path: Path) -> None:
    # Start-up is most of a small run (issue 15): these modules cost ~10 ms each to
    # import and only rare paths need them (a large image's hash thread, problems held
    # back in a temporary file, ...), so a run of small images never imports them.
    # OpenSSL (hashlib), pybase64 and zlib-ng load once there is enough work for them
    # (imgcall._accel): one small image is not.
    heavy = (
        *("concurrent.futures", "socket", "tempfile", "secrets", "string", "logging", "base64"),
        *("hashlib", "_hashlib", "pybase64", "zlib_ng"),
    )
    argv = ["extract", RESPONSE, "-o", str(tmp_path / "out"), "-q"]
    code = (
        f"import sys; from imgcall.cli import main; sys.argv=['imgcall', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env()
    )
    assert done.returncode == 0, done.stderr
    # What the interpreter itself loads here (a site hook may import tempfile) is not ours.
    bare = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; print(sorted(m for m in {heavy!r} if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        env=subprocess_env(),
    )
    assert done.stdout.strip().splitlines()[-1] == bare.stdout.strip()
    assert (tmp_path / "out" / "imgcall-manifest.jsonl").exists()
