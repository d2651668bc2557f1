"""imgcall._interrupt: a shielded write holds Ctrl-C back in the main thread only."""

from __future__ import annotations

import threading

import pytest

from imgcall._interrupt import defer_interrupt, shielded, take_pending


def test_an_interrupt_during_a_shielded_write_is_held_until_taken() -> None:
    assert defer_interrupt() is False  # outside a write: raise at once
    with shielded(), shielded():  # nested writes (a file, then its manifest line)
        assert defer_interrupt() is True
    assert defer_interrupt() is False
    assert take_pending() is True and take_pending() is False


def test_a_write_that_fails_still_ends_its_shield() -> None:
    with pytest.raises(OSError), shielded():
        raise OSError("disk full")
    assert defer_interrupt() is False


def test_writes_on_other_threads_are_not_shielded() -> None:
    seen: list[bool] = []

    def write() -> None:
        with shielded():
            seen.append(defer_interrupt())

    worker = threading.Thread(target=write)
    worker.start()
    worker.join()
    assert seen == [False] and take_pending() is False
