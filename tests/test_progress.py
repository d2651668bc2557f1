"""The command line's progress bar: when it appears, how it gets out of printed lines' way."""

from __future__ import annotations

import io

import imgcall._progress as progress
from imgcall._progress import CountingReader, Position, Progress

ERASE = "\r\x1b[2K"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def bar_for(total: int, clock: Clock) -> tuple[Progress, io.StringIO]:
    stream = io.StringIO()
    bar = Progress(stream, Position([("a.json", total, None)]), clock=clock, width=80)
    return bar, stream


def test_no_bar_before_the_delay_so_short_runs_never_flash_one() -> None:
    clock = Clock()
    bar, stream = bar_for(1000, clock)
    clock.now += progress.DELAY / 2
    bar.update("a.json", 300, image=True, printed=False)
    bar.finish(complete=True)
    assert stream.getvalue() == ""


def test_the_bar_ends_at_100_percent_on_its_own_line() -> None:
    clock = Clock()
    bar, stream = bar_for(3000, clock)
    clock.now += progress.DELAY
    bar.update("a.json", 300, image=True, printed=False)  # 400 of 3000 input bytes
    assert stream.getvalue() == ERASE + bar.frame()
    assert " 13%  1 image" in bar.frame()
    bar.finish(complete=True)
    last = stream.getvalue().rsplit(ERASE, 1)[1]
    assert last.endswith("100%  1 image\n")
    assert last.startswith("imgcall  [" + "#" * 10)


def test_an_unfinished_run_does_not_claim_100_percent() -> None:
    clock = Clock()
    bar, stream = bar_for(3000, clock)
    clock.now += progress.DELAY
    bar.update("a.json", 300, image=True, printed=False)
    bar.finish(complete=False)
    assert stream.getvalue().endswith(" 13%  1 image\n")


def test_the_bar_is_cleared_before_a_line_and_drawn_again_after_it() -> None:
    clock = Clock()
    bar, stream = bar_for(3000, clock)
    clock.now += progress.DELAY
    bar.update("a.json", 300, image=True, printed=False)
    shown = stream.getvalue()
    bar.clear()
    stream.write("out/ig_1.png\n")  # what the command prints between
    # Too soon for a new frame, but the line took the bar away: it comes back at once.
    bar.update("a.json", 300, image=True, printed=True)
    assert stream.getvalue() == shown + ERASE + "out/ig_1.png\n" + ERASE + bar.frame()
    # Without a printed line, frames are spaced out.
    before = stream.getvalue()
    bar.update("a.json", 300, image=True, printed=False)
    assert stream.getvalue() == before


def test_clear_writes_nothing_when_no_bar_is_showing() -> None:
    bar, stream = bar_for(3000, Clock())
    bar.clear()
    bar.update("a.json", 1, image=True, printed=True)
    assert stream.getvalue() == ""


def test_the_frame_fits_a_narrow_terminal() -> None:
    clock = Clock()
    stream = io.StringIO()
    bar = Progress(stream, Position([("a", 10, None)]), clock=clock, width=30)
    assert len(bar.frame()) < 30


def test_position_counts_finished_files_whole_and_estimates_the_current_one() -> None:
    position = Position([("a.json", 1000, None), ("b.json", 4000, None)])
    assert position.total == 5000
    position.advance("a.json", 300)
    assert position.done == 400  # base64 is 4/3 of the image
    position.advance("a.json", 3000)
    assert position.done == 1000  # never past the file's size
    position.advance("b.json", 30)
    assert position.done == 1000 + 40  # a.json is finished
    position.finish()
    assert position.done == 5000


def test_standard_input_is_measured_by_the_bytes_read() -> None:
    reader = CountingReader(io.BytesIO(b"x" * 5000))
    assert reader.read1(1000) == b"x" * 1000
    assert len(reader.read(3000)) == 3000
    position = Position([("<stdin>", None, reader)])
    assert position.total is None and position.done == 4000
    reader.read()
    stream = io.StringIO()
    clock = Clock()
    bar = Progress(stream, position, clock=clock, width=80)
    clock.now += progress.DELAY
    bar.update("<stdin>", 10, image=True, printed=False)
    assert bar.frame() == "imgcall  5.0 kB read  1 image"
