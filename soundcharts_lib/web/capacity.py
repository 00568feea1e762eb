"""How many visitors' kernels the viewers' server runs at once, and what a visitor past that sees.

A kernel serves one visitor (a live page, or a snapshot page a visitor took live by using a control that needs
Python): 150-200 MB and seconds of CPU to start and run its page. :class:`LiveGate` admits a new one while fewer than
``SOUNDCHARTS_LIVE_KERNELS`` visitors' kernels run (``0``: :data:`KERNELS_PER_CORE` per core) and fewer than one per
core are starting; a visitor that finds no room within :data:`QUEUE_SECONDS` gets :func:`busy_page`: a short page
(HTTP 503 with ``Retry-After``) that reloads itself a few seconds later, never a request that hangs. Preheated kernels
waiting in Voila's pools are not visitors' kernels.

A visitor who leaves frees its kernel: the page's ``beforeunload`` beacon shuts it down, and :class:`Orphans` shuts
down a visitor's kernel no page is connected to and that did nothing for :data:`ORPHAN_SECONDS` (a browser that closed
without the beacon, a page whose websocket never came), so the room comes back within a minute or two, not at the
10-minute cull.
"""

from __future__ import annotations

import asyncio
import html
import os
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime

KERNELS_PER_CORE = 4
QUEUE_SECONDS = 10.0  # a visitor waits this long for room before the busy page
POLL_SECONDS = 0.25  # a kernel shut down or culled frees room without telling anyone: look again this often
RETRY_SECONDS = (3, 6)  # the busy page reloads after a random number of seconds in this range
ORPHAN_SECONDS = 60.0  # longer than a page takes to load and connect on a busy machine, or to reconnect


def default_live_kernels(cores: int | None = None) -> int:
    return KERNELS_PER_CORE * (cores or os.cpu_count() or 1)


def pooled_kernels(kernel_manager) -> set[str]:
    """The kernels waiting in Voila's preheated pools (started, not yet given to a visitor)."""
    found = set()
    for pool in getattr(kernel_manager, "_pools", {}).values():
        for task in pool:
            if task.done() and not task.cancelled() and task.exception() is None:
                found.add(task.result()["kernel_id"])
    return found


def pools_ready(kernel_manager) -> bool:
    """Whether every preheated pool holds its kernels, started (none being filled)."""
    config = getattr(kernel_manager, "kernel_pools_config", {})
    default = config.get("default", {}).get("pool_size", 1)
    for name, pool in getattr(kernel_manager, "_pools", {}).items():
        if len(pool) < config.get(name, {}).get("pool_size", default) or not all(task.done() for task in pool):
            return False
    return True


class Orphans:
    """Shuts down the visitors' kernels no page is connected to, idle for ``seconds`` (the pooled ones and those
    ``kept(kernel_id)`` says the server itself uses are left alone; a kernel running a page is busy, not idle)."""

    def __init__(self, kernel_manager, kept, seconds: float = ORPHAN_SECONDS):
        self.kernel_manager, self.kept, self.seconds = kernel_manager, kept, seconds

    def orphans(self, now: datetime | None = None) -> list[str]:
        manager, now = self.kernel_manager, now or datetime.now(UTC)
        found = []
        for kernel_id in set(manager.list_kernel_ids()) - pooled_kernels(manager):
            kernel = manager.get_kernel(kernel_id)
            last = getattr(kernel, "last_activity", None) or now
            if not (self.kept(kernel_id) or manager._kernel_connections.get(kernel_id, 0)
                    or getattr(kernel, "execution_state", "") == "busy"
                    or (now - last).total_seconds() <= self.seconds):
                found.append(kernel_id)
        return found

    async def reap(self) -> list[str]:
        """Shut the orphans down; their ids."""
        from jupyter_core.utils import ensure_async

        gone = self.orphans()
        for kernel_id in gone:
            await ensure_async(self.kernel_manager.shutdown_kernel(kernel_id))
        return gone


class LiveGate:
    """Admission of visitors' kernels (module docstring). ``limit``: visitors' kernels at once; ``starting``: kernel
    starts at once (one per core: more only share the same cores and all finish later)."""

    def __init__(self, kernel_manager, limit: int, starting: int | None = None, clock=time.monotonic):
        self.kernel_manager, self.limit = kernel_manager, limit
        self.max_starting = starting or os.cpu_count() or 1
        self.starting, self.clock = 0, clock
        self._changed = asyncio.Event()

    def live(self) -> int:
        """Visitors' kernels running now (every kernel but the pooled ones)."""
        return len(set(self.kernel_manager.list_kernel_ids()) - pooled_kernels(self.kernel_manager))

    def has_room(self) -> bool:
        return self.starting < self.max_starting and self.live() + self.starting < self.limit

    @asynccontextmanager
    async def admitted(self, wait: float = QUEUE_SECONDS) -> AsyncIterator[bool]:
        """``True`` inside the block when a kernel may start (its start counts until the block ends), ``False`` when
        no room came within ``wait`` seconds."""
        deadline = self.clock() + wait
        while not self.has_room():
            left = deadline - self.clock()
            if left <= 0:
                yield False
                return
            self._changed.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, POLL_SECONDS))
        self.starting += 1
        try:
            yield True
        finally:
            self.starting -= 1
            self._changed.set()


def retry_seconds() -> int:
    """Spread the retries of a crowd over a few seconds."""
    return random.randint(*RETRY_SECONDS)


BUSY_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{seconds}"><title>Busy, retrying</title>
<style>body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827;
  display: flex; justify-content: center; padding-top: 18vh; margin: 0; }}
main {{ max-width: 460px; padding: 0 20px; }} h1 {{ font-size: 22px; margin: 0 0 8px; }}
p {{ color: #4b5563; font-size: 15px; line-height: 1.5; }} a {{ color: #2563eb; }}</style></head>
<body><main class="busy-page"><h1>Busy, retrying</h1>
<p>Many people are opening dashboards right now. This page tries again by itself in {seconds} seconds.</p>
<p><a href="{again}">Try again now</a></p></main></body></html>
"""


def busy_page(uri: str, seconds: int | None = None) -> tuple[int, dict[str, str], str]:
    """``(status, headers, body)`` of the busy page for a request of ``uri`` (path and query, as sent)."""
    seconds = seconds or retry_seconds()
    headers = {"Retry-After": str(seconds), "Content-Type": "text/html; charset=UTF-8", "Cache-Control": "no-store"}
    return 503, headers, BUSY_PAGE.format(seconds=seconds, again=html.escape(uri, quote=True))
