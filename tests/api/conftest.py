"""Fixtures of the client's tests: the replay server and a client of it (fast retries, waits recorded)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from api.replay import Replay
from soundcharts_lib.api.client import SoundchartsClient


@pytest.fixture()
def replay() -> Iterator[Replay]:
    r = Replay()
    thread = threading.Thread(target=r.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture()
def client(replay: Replay) -> Iterator[SoundchartsClient]:
    waits: list[float] = []
    with SoundchartsClient(replay.base_url, "app", "key", max_retries=2, backoff_base=0.01,
                           rate_limit_per_minute=60000, sleep=waits.append) as c:
        c.waits = waits  # type: ignore[attr-defined]
        yield c
