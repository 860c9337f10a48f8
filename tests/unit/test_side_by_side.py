"""The CLI's worker pool (syncpurge.phases.side_by_side), which runs the state machine's
Map items side by side: the first error stops every other piece before its next key and is
raised once they have all returned; a piece that only obeyed the stop hides nothing."""

from __future__ import annotations

import threading
import time

import pytest

from syncpurge.phases.purge import PurgeStopped
from syncpurge.phases.side_by_side import run_side_by_side

pytestmark = pytest.mark.unit


def test_the_first_error_stops_the_other_pieces_and_is_raised_once_they_return() -> None:
    stop, started, stopped = threading.Event(), threading.Event(), []

    def failing() -> None:
        started.wait(5)
        raise RuntimeError("AccessDenied on the target")

    def long() -> None:
        started.set()
        deadline = time.monotonic() + 5
        while not stop.is_set() and time.monotonic() < deadline:  # key after key
            time.sleep(0.01)
        stopped.append(stop.is_set())

    with pytest.raises(RuntimeError, match="AccessDenied"):
        run_side_by_side([failing, long], workers=2, stop=stop)

    assert stopped == [True]  # the long piece was told to stop, and had returned


def test_a_piece_that_obeyed_the_stop_does_not_hide_the_error_that_set_it() -> None:
    stop, started = threading.Event(), threading.Event()

    def failing() -> None:
        started.wait(5)
        time.sleep(0.05)
        raise OSError("the network went away")

    def obeying() -> None:
        started.set()
        stop.wait(5)
        raise PurgeStopped("the run stopped")

    with pytest.raises(OSError, match="network"):
        run_side_by_side([obeying, failing], workers=2, stop=stop, stopped=(PurgeStopped,))


def test_results_reach_the_callback_on_the_calling_thread() -> None:
    seen: list[tuple[int, bool]] = []
    main = threading.current_thread()

    def piece(n: int) -> int:
        return n

    run_side_by_side(
        [lambda n=n: piece(n) for n in range(5)],  # type: ignore[misc]
        workers=3,
        stop=threading.Event(),
        on_result=lambda n: seen.append((n, threading.current_thread() is main)),
    )

    assert sorted(seen) == [(n, True) for n in range(5)]
