"""Run a phase's pieces on a pool of threads, and stop them all as one: how the CLI's worker
pool drives the diff's key ranges (`fanout`), a stored plan's re-check (`fanout_recheck`)
and the purge's parts (`fanout_purge`).

The first error, or Ctrl-C, sets the run's stop event (each piece asks it before its next
key) and cancels the pieces not started yet; it is raised only once every started piece has
returned, whatever else arrives meanwhile (a second Ctrl-C included): no piece goes on
deleting, nor writes to a report, after the run has ended.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

Result = TypeVar("Result")


def run_side_by_side(
    pieces: Sequence[Callable[[], Result]],
    *,
    workers: int,
    stop: threading.Event,
    on_result: Callable[[Result], None] | None = None,
    stopped: tuple[type[BaseException], ...] = (),
    name: str = "syncpurge-worker",
) -> None:
    """Run `pieces` on up to `workers` threads, `on_result` (if any) on this thread as each
    ends. A piece that raises one of `stopped` only obeyed the stop: the error that set it
    is the one raised."""
    pool = ThreadPoolExecutor(max(1, min(workers, len(pieces))), thread_name_prefix=name)
    futures: list[Future[Result]] = []
    try:
        for piece in pieces:
            futures.append(pool.submit(piece))
        pending: set[Future[Result]] = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in finished:
                error = future.exception()
                if error is None:
                    if on_result is not None:
                        on_result(future.result())
                elif not isinstance(error, stopped):
                    raise error
    except BaseException:
        stop.set()
        for future in futures:
            future.cancel()
        raise
    finally:
        _outwait(futures)
        pool.shutdown(wait=False)


def _outwait(futures: list[Future[Result]]) -> None:
    """Wait until every started piece has returned; a Ctrl-C meanwhile doesn't cut it short
    (the stop is already set: the pieces are ending)."""
    while True:
        try:
            wait(futures)
            return
        except KeyboardInterrupt:
            continue
