"""Whether the viewer pages' data changed, and what their common addresses are about: what snapshot pages
(:mod:`soundcharts_lib.web.snapshots`) are checked against and rendered for.

Every write the pages show leaves a trace that :func:`data_version` reads in one statement: a job run (chart sync,
audience, metadata, maintenance: each recorded as it starts and as it finishes), an audit event (roster,
annotations, alert rules, admin actions, cleanups, repairs) or a fired alert.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from soundcharts_lib.curation import roster
from soundcharts_lib.db.tables import ALERT, AUDIT, RUN, C, P, R


def data_version(engine: Engine) -> tuple:
    """A value that changes whenever a job run starts or finishes, an audit event is recorded or an alert fires."""
    parts = (func.max(RUN.c.id), func.count(RUN.c.finished_at), func.max(RUN.c.finished_at), func.max(AUDIT.c.id),
             func.max(ALERT.c.id))
    query = select(*(select(part).scalar_subquery() for part in parts))
    with engine.connect() as conn:
        return tuple(conn.execute(query).one())


def page_subjects(engine: Engine) -> dict:
    """``{"platforms", "charts", "roster", "roster_tracks"}``: the platform codes, the codes of the charts with a
    stored ranking (most rankings first), whether a roster exists and its stored tracks."""
    with engine.connect() as conn:
        platforms = list(conn.execute(select(P.c.slug).order_by(P.c.slug)).scalars())
        charts = list(conn.execute(select(C.c.slug).join(R, R.c.chart_id == C.c.id).where(R.c.status == "success")
                                   .group_by(C.c.slug).order_by(func.count().desc(), C.c.slug)).scalars())
    exists = roster.has_roster(engine)
    return {"platforms": platforms, "charts": charts, "roster": exists,
            "roster_tracks": roster.roster_track_uuids(engine) if exists else []}
