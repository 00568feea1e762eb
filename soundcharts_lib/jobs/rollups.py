"""The rollups the viewer pages read, brought up to date after a job stores, replaces, fails or deletes rankings
(the top-tracks rollup, over the dates touched, the track-chart rollup, over the charts changed, and the label
rollup) or writes tracks' metadata (the label
rollup). Until they catch up the pages read the entries (slower, never wrong), so a database error here is logged,
not raised: the job's own work is stored already."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from soundcharts_lib.db import chart_rollup, rollup
from soundcharts_lib.warehouse import labels

log = logging.getLogger(__name__)


def catch_up(engine: Engine, dates: Iterable[date] | None = None, *, rankings: bool = True) -> None:
    """Refresh the top-tracks rollup over ``dates`` (None: any date) and the track-chart rollup (both skipped without
    ``rankings``), then the label rollup."""
    try:
        if rankings:
            rollup.refresh(engine, dates)
            chart_rollup.refresh(engine)
        labels.refresh(engine)
    except SQLAlchemyError as exc:
        log.warning("rollups not refreshed: %s", str(exc).splitlines()[0][:300])
