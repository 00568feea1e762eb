"""Stopping what a long-running command started (``serve``, ``serve --admin``, ``demo``): Voila, every kernel,
whatever they started, on Ctrl-C, SIGTERM (a service manager, ``kill``) and SIGHUP (a closed terminal) alike.

Voila's kernels run in sessions of their own (``jupyter_client`` starts them so), so a signal to the command's
process group never reaches them: the command asks its children to stop (SIGTERM: Voila then shuts its kernels
down), and whatever of its process tree is still there after ``GRACE_SECONDS`` (a hung server, an orphaned
kernel) is terminated, then killed: every process is gone within ``GRACE_SECONDS + KILL_SECONDS`` (under 10 s).
"""

from __future__ import annotations

import contextlib
import signal
import time

import psutil

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_SECONDS = 6.0  # Voila's own shutdown of its kernels (a kernel that ignores its shutdown request: 5 s)
KILL_SECONDS = 2.0  # then the stragglers: SIGTERM, and SIGKILL for those still there
POLL_SECONDS = 0.1


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP end the command as Ctrl-C does (``KeyboardInterrupt``), also when a shell started it in
    the background (which makes it ignore SIGINT). The first signal is the one that counts: later ones are ignored,
    so the clean-up they started is not cut short."""
    def stop(*_) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt

    for sig in STOP_SIGNALS:
        signal.signal(sig, stop)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _descendants(process: psutil.Process) -> set[psutil.Process]:
    try:
        return set(process.children(recursive=True))
    except psutil.Error:
        return set()


def _send(processes, action: str) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):  # gone meanwhile
            getattr(process, action)()


def stop_started(grace: float = GRACE_SECONDS, kill_after: float = KILL_SECONDS) -> None:
    """Stop every process this process started, and their descendants: SIGTERM to the children, up to ``grace``
    seconds for them to end (the tree is re-read meanwhile, so a kernel started during the shutdown is not
    missed), then SIGTERM to every survivor and, ``kill_after`` seconds later, SIGKILL. For a command's own
    process only (in a test runner it would stop the runner's other children)."""
    me = psutil.Process()
    children = me.children()
    family = _descendants(me)
    _send(children, "terminate")
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(child) for child in children):
        for child in children:
            family |= _descendants(child)
        time.sleep(POLL_SECONDS)
    survivors = [p for p in family | _descendants(me) if _alive(p)]
    _send(survivors, "terminate")
    _gone, still = psutil.wait_procs(survivors, timeout=kill_after)
    _send(still, "kill")
    psutil.wait_procs(still, timeout=1)
