"""What the viewer dashboards read: :mod:`warehouse.analytics`' page data with the recent alerts, a track's
annotations and roster state, and the "my roster" filter (``mine=True``) applied to every table of tracks; and with
each table of tracks its ``credits``, the artists stored for its tracks (their names link to the artist page).

A filtered top list is the top of the roster's tracks (the ranking is read without its limit, then kept to the
roster), not the roster's part of the overall top list; a chart's ranking and movers keep their positions.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy.engine import Engine

from soundcharts_lib.curation import alerts, annotations, roster
from soundcharts_lib.warehouse import analytics, artist_pages, audience_series, compare_pages, forecast, reach_pages
from soundcharts_lib.warehouse.side_by_side import side_by_side

OVERVIEW_TRACKS, PLATFORM_TRACKS, TOP_DAYS = 10, 20, 30  # as analytics.overview / platform_page list them
CHART_TABLES = ("ranking", "climbers", "fallers", "new_entries", "dropouts")


def alert_track(details) -> str | None:
    """The track UUID an alert is about (None for a chart alert)."""
    return details.get("track_uuid") if isinstance(details, dict) else None


def overview(engine: Engine, *, mine: bool = False, today: date | None = None, now: datetime | None = None) -> dict:
    """:func:`analytics.overview` plus ``alerts`` (:func:`alerts.recent_alerts`), ``artists`` (the top artists,
    :func:`artist_pages.top_artists`), ``credits`` (of the top tracks and the alerts' tracks) and ``roster`` (=
    ``mine``); with ``mine``, the top tracks and artists are the roster's and the alerts those about roster tracks."""
    read = side_by_side(engine, overview=lambda: analytics.overview(engine, today, now),
                        alerts=lambda: alerts.recent_alerts(engine, now=now),
                        artists=lambda: artist_pages.top_artists(engine, TOP_DAYS, today, OVERVIEW_TRACKS, mine=mine))
    data = {**read["overview"], "alerts": read["alerts"], "roster": mine, "artists": read["artists"]}
    if mine:
        keep = set(roster.roster_track_uuids(engine))
        ranked = analytics.top_tracks(engine, TOP_DAYS, today, limit=None)
        data["tracks"] = roster.keep_tracks(ranked, keep).head(OVERVIEW_TRACKS)
        found = data["alerts"]
        about = pd.Series([alert_track(d) in keep for d in found["details"]], index=found.index, dtype=bool)
        data["alerts"] = found[about].reset_index(drop=True)  # a mask, never a list (an empty list picks no column)
    tracks = [*data["tracks"]["uuid"], *(alert_track(d) for d in data["alerts"]["details"])]
    return {**data, "credits": artist_pages.credits(engine, tracks)}


def platform_page(engine: Engine, slug: str, *, mine: bool = False, today: date | None = None) -> dict:
    """:func:`analytics.platform_page` plus ``roster`` and ``credits`` (of its top tracks); with ``mine``, its top
    tracks are the roster's."""
    data = {**analytics.platform_page(engine, slug, today), "roster": mine}
    if mine:
        ranked = analytics.platform_top_tracks(engine, slug, TOP_DAYS, today, limit=None)
        data["tracks"] = roster.keep_tracks(ranked, set(roster.roster_track_uuids(engine))).head(PLATFORM_TRACKS)
    return {**data, "credits": artist_pages.credits(engine, data["tracks"]["uuid"])}


def chart_page(engine: Engine, slug: str, on: date | None = None, *, mine: bool = False) -> dict:
    """:func:`analytics.chart_page` plus ``roster`` and ``credits`` (of the tracks of its tables); with ``mine``, the
    ranking and the movers keep the roster's tracks only (at their own positions)."""
    data = {**analytics.chart_page(engine, slug, on), "roster": mine}
    if mine:
        keep = set(roster.roster_track_uuids(engine))
        data.update({key: roster.keep_tracks(data[key], keep) for key in CHART_TABLES})
    return {**data, "credits": artist_pages.credits(engine, [u for key in CHART_TABLES
                                                                  for u in data[key]["uuid"].tolist()])}


def track_page(engine: Engine, uuid: str, **settings) -> dict:
    """:func:`analytics.track_page` (``settings``: its audience settings) plus ``notes``
    (:func:`annotations.for_track`), ``follow`` (:func:`roster.follow_state`) and ``compare`` (the tracks its
    "compare with" picker offers, :func:`compare_pages.track_candidates`), ``reach``
    (:func:`reach_pages.track_reach`) and ``forecast`` (a roster track's audience forecast per platform,
    :func:`forecast.track_forecast`; else empty)."""
    read = side_by_side(engine, data=lambda: analytics.track_page(engine, uuid, **settings),
                        follow=lambda: roster.follow_state(engine, uuid),
                        notes=lambda: annotations.for_track(engine, uuid),
                        compare=lambda: compare_pages.track_candidates(engine, uuid),
                        reach=lambda: reach_pages.track_reach(engine, uuid))
    follow = read["follow"]
    try:
        ahead = forecast.track_forecast(engine, uuid) if follow["track"] or follow["artists"] else {}
    except audience_series.OutOfRange:  # said in the audience card (analytics.track_page)
        ahead = {}
    return {**read.pop("data"), **read, "forecast": ahead}
