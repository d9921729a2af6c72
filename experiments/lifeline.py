"""Worker processes that die with the sweep that started them.

A pool worker's parent is the forkserver, not the sweep, and the forkserver stays up as long as
any worker holds its pipe; a Dask worker's parent is a nanny thread's fork. So neither a process
group nor `PR_SET_PDEATHSIG` (which fires when the forking *thread* ends) ties a worker to the
sweep. Each worker instead watches the sweep's process through a pidfd (Linux >= 5.3; a
once-a-second `kill(pid, 0)` elsewhere) and exits the moment it ends, however it ended:
SIGTERM, SIGHUP, SIGKILL, the OOM killer. Nothing is left holding the terminal's stdout, so a
`| tee` or a CI capture returns.

The sweep itself turns SIGTERM and SIGHUP into `Terminated`, so it kills its workers, records
the session in the manifest and exits 128 + signal number.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator

_watching: set[int] = set()


def die_with(pid: int) -> None:
    """Exit this process as soon as process `pid` ends (idempotent, a daemon thread)."""
    if pid in _watching or pid == os.getpid():
        return
    _watching.add(pid)
    try:
        handle: int | None = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)  # already gone: nobody is waiting for this worker's results
    except (AttributeError, OSError):
        handle = None
    threading.Thread(target=_watch, args=(pid, handle), name=f"lifeline-{pid}", daemon=True).start()


def _watch(pid: int, handle: int | None) -> None:
    if handle is not None:
        select.select([handle], [], [])  # readable once the process has exited
    else:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass  # alive, another user's: cannot happen for our parent, but keep watching
            time.sleep(1.0)
    os._exit(1)


class Terminated(BaseException):
    """SIGTERM or SIGHUP reached the sweep: stop now (a BaseException, like KeyboardInterrupt)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"terminated by {signal.Signals(signum).name}")

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(signum)


@contextmanager
def terminate_on_signals(signums: tuple[int, ...] = (signal.SIGTERM, signal.SIGHUP)) -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise `Terminated` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_terminated) for s in signums}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
