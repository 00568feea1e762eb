"""Annotations: dated notes on tracks, their checks and audit, and their marks on a track's figure."""

from __future__ import annotations

from datetime import date

import bqplot as bq
import pandas as pd
import pytest
from sqlalchemy import insert, select

from soundcharts_lib.curation import annotations
from soundcharts_lib.db.models import AuditEvent, Track
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.ui.annotations import annotate
from soundcharts_lib.ui.figures import lines_chart

T1 = "11111111-1111-1111-1111-111111111111"
T2 = "22222222-2222-2222-2222-222222222222"


@pytest.fixture
def db(engine):
    with engine.begin() as conn:
        conn.execute(insert(Track), [{"id": 1, "uuid": T1, "name": "One"}, {"id": 2, "uuid": T2, "name": "Two"}])
    return engine


def test_add_list_remove(db):
    campaign = annotations.add(db, T1, date(2026, 3, 5), "  TV campaign starts ", kind="campaign", actor="ana")
    release = annotations.add(db, T1.upper(), date(2026, 3, 1), "Single out")
    annotations.add(db, T2, date(2026, 3, 2), "Other track")
    frame = annotations.for_track(db, T1)
    assert frame[["id", "date", "kind", "text"]].values.tolist() == [
        [release, date(2026, 3, 1), "note", "Single out"],
        [campaign, date(2026, 3, 5), "campaign", "TV campaign starts"]]
    assert frame["created_by"].tolist() == ["admin", "ana"]  # the default actor: audit.actor_from_env()
    assert annotations.for_track(db, T1, start=date(2026, 3, 2))["id"].tolist() == [campaign]
    assert annotations.for_track(db, T1, end=date(2026, 3, 4))["id"].tolist() == [release]
    annotations.remove(db, campaign)
    assert annotations.for_track(db, T1)["id"].tolist() == [release]
    with pytest.raises(ConfigError, match=f"no annotation {campaign}"):
        annotations.remove(db, campaign)
    with db.connect() as conn:
        actions = conn.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.target)
                               .order_by(AuditEvent.id)).all()
    assert [tuple(a) for a in actions] == [("ana", "annotation.add", f"track:{T1}"),
                                           ("admin", "annotation.add", f"track:{T1}"),
                                           ("admin", "annotation.add", f"track:{T2}"),
                                           ("admin", "annotation.remove", f"track:{T1}")]


@pytest.mark.parametrize(("args", "message"), [
    ((T1, date(2026, 1, 1), ""), "annotation text must be 1 to 1000 characters, got 0"),
    ((T1, date(2026, 1, 1), "x" * 1001), "got 1001"),
    ((T1, "2026-01-01", "text"), "must be a date"),
    ((T1, date(2026, 1, 1), "text", "Big Launch"), "annotation kind must be a short lower-case word"),
    (("33333333-3333-3333-3333-333333333333", date(2026, 1, 1), "text"), "no track 3333.* is stored"),
    (("nope", date(2026, 1, 1), "text"), "not a SoundCharts UUID"),
])
def test_bad_annotations_are_refused(db, args, message):
    with pytest.raises(ConfigError, match=message):
        annotations.add(db, *args)
    assert annotations.for_track(db, T1).empty


def test_unknown_track_has_no_annotations(db):
    assert annotations.for_track(db, "33333333-3333-3333-3333-333333333333").columns.tolist() == annotations.COLUMNS


def test_annotate_adds_a_line_per_note_on_the_figure_date_scale():
    series = {"Chart A": pd.DataFrame({"date": [date(2026, 3, 1), date(2026, 3, 8)], "position": [40, 12]})}
    chart = lines_chart(series, "position", reverse=True)
    figure = chart.children[0]
    before = list(figure.marks)
    notes = pd.DataFrame({"date": [date(2026, 3, 3), date(2026, 3, 6)], "kind": ["release", "campaign"],
                          "text": ["Single out", "TV"]})
    assert annotate(chart, notes) is chart
    added = figure.marks[len(before):]
    lines = [m for m in added if isinstance(m, bq.Lines)]
    labels = [m for m in added if isinstance(m, bq.Label)]
    assert len(lines) == 2 and len(labels) == 1
    assert all(m.scales["x"] is before[0].scales["x"] for m in added)
    assert [m.labels[0] for m in lines] == ["release: Single out", "campaign: TV"]
    assert list(labels[0].text) == ["release", "campaign"]
    assert pd.Timestamp(lines[0].x[0]) == pd.Timestamp("2026-03-03")
    assert annotate(chart, notes.iloc[0:0]) is chart and len(figure.marks) == len(before) + 3


def test_annotate_leaves_an_empty_figure_alone():
    chart = lines_chart({}, "position")
    notes = pd.DataFrame({"date": [date(2026, 3, 3)], "kind": ["release"], "text": ["x"]})
    assert annotate(chart, notes) is chart and chart.children[0].marks == []
