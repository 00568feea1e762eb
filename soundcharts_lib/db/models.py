"""ORM tables (SQLAlchemy 2.0 typed mappings). Only ``db/`` knows table layouts.

Indexes name the ``analytics`` query they serve.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from soundcharts_lib.db.base import Base, JSONType, utcnow
from soundcharts_lib.db.models_reach import (  # noqa: F401  (their tables are part of the schema wherever it is read)
    ArtistAudience,
    ArtistListeners,
    Digest,
    DigestDelivery,
    PlaylistSnapshot,
    SeriesCheck,
    TrackChartReach,
    TrackPopularity,
)


class Platform(Base):
    __tablename__ = "platform"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    supports_charts: Mapped[bool] = mapped_column(Boolean, default=False)
    supports_audience: Mapped[bool] = mapped_column(Boolean, default=False)
    audience_metric: Mapped[str | None] = mapped_column(String(100))


class Chart(Base):
    __tablename__ = "chart"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"), index=True)
    type: Mapped[str | None] = mapped_column(String(100))
    frequency: Mapped[str | None] = mapped_column(String(50))
    country_code: Mapped[str | None] = mapped_column(String(8))
    country_name: Mapped[str | None] = mapped_column(String(200))
    city_name: Mapped[str | None] = mapped_column(String(200))
    max_results: Mapped[int | None] = mapped_column(Integer)
    web_url: Mapped[str | None] = mapped_column(String(1000))
    metric_type: Mapped[str | None] = mapped_column(String(100))
    metric_description: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    discovered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_ranking_date: Mapped[date | None] = mapped_column(Date)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # bumped by triggers on every write of its rankings (migration 0010; on PostgreSQL once per statement): the
    # track-chart rollup holds the charts whose version it was built at
    rankings_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class ChartRanking(Base):
    __tablename__ = "chart_ranking"
    __table_args__ = (
        UniqueConstraint("chart_id", "ranking_date", name="uq_ranking_chart_date"),
        # analytics.rankings_per_day / top_platforms: rankings by the chart's own date
        Index("ix_ranking_date_chart", "ranking_date", "chart_id"),
        Index("ix_ranking_fetched_at", "fetched_at"),
        # analytics.chart_dates, trends.ranking_pairs / ranking_entries (a chart page): one chart's successful
        # rankings by date, read from the index alone (queries write the condition as tables.SUCCESS)
        Index("ix_ranking_success", "chart_id", "ranking_date", sqlite_where=text("status = 'success'"),
              postgresql_where=text("status = 'success'")),
        # analytics.track_charts / track_chart_history: the few rankings that are not a success (their entries
        # count nowhere), found without reading the others (tables.UNSUCCESSFUL)
        Index("ix_ranking_unsuccessful", "chart_id", "ranking_date", sqlite_where=text("status <> 'success'"),
              postgresql_where=text("status <> 'success'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chart_id: Mapped[int] = mapped_column(ForeignKey("chart.id"))
    ranking_date: Mapped[date] = mapped_column(Date)
    date_raw: Mapped[str] = mapped_column(String(40))
    fetched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="success")
    error: Mapped[str | None] = mapped_column(Text)
    entry_count: Mapped[int] = mapped_column(Integer, default=0)


class RankingItemFields:
    """What the API says of each item of a ranking, stored as sent: alike for the chart's entries and its drop-outs
    (columns after the table's own)."""

    old_position: Mapped[int | None] = mapped_column(Integer)
    position_evolution: Mapped[int | None] = mapped_column(Integer)
    entry_state: Mapped[str | None] = mapped_column(String(32))
    entry_date: Mapped[date | None] = mapped_column(Date)
    rank_date: Mapped[date | None] = mapped_column(Date)
    time_on_chart: Mapped[int | None] = mapped_column(Integer)
    time_on_chart_unit: Mapped[str | None] = mapped_column(String(16))
    metric: Mapped[int | None] = mapped_column(BigInteger)


def _from_ranking(column: str):
    """An entry's default for ``column``: its ranking's (an insert that leaves it out, e.g. an ORM or Core insert by
    hand, reads it from the ranking; the sync's bulk store writes it with the entry)."""
    def fill(context):
        ranking = ChartRanking.__table__
        ranking_id = context.get_current_parameters()["ranking_id"]
        return context.connection.execute(select(ranking.c[column]).where(ranking.c.id == ranking_id)).scalar()
    return fill


class ChartRankingEntry(RankingItemFields, Base):
    __tablename__ = "chart_ranking_entry"
    __table_args__ = (
        UniqueConstraint("ranking_id", "position", name="uq_entry_ranking_position"),
        # analytics.top_tracks: appearances per track within a set of rankings
        Index("ix_entry_ranking_track", "ranking_id", "track_id"),
        # analytics.track_charts / track_chart_history / track_charting_now, trends.ranking_entries: one track's
        # entries per chart and date, read from the index alone (no join with the rankings; migration 0007)
        Index("ix_entry_track", "track_id", "chart_id", "ranking_date", "position"),
        # SQLite only: on PostgreSQL its per-row check cost a third of storing rankings (migration 0005);
        # `soundcharts maintenance check` reports entries whose track is missing on both
        ForeignKeyConstraint(["track_id"], ["track.id"]).ddl_if(dialect="sqlite"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ranking_id: Mapped[int] = mapped_column(ForeignKey("chart_ranking.id", ondelete="CASCADE"))
    # the ranking's date and chart, repeated: the monthly partition key on PostgreSQL (db/partition.py), and what
    # a track's pages group and filter by without reading the rankings (ix_entry_track)
    ranking_date: Mapped[date | None] = mapped_column(Date, default=_from_ranking("ranking_date"))
    chart_id: Mapped[int | None] = mapped_column(Integer, default=_from_ranking("chart_id"))
    track_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)


class ChartRankingDropout(RankingItemFields, Base):
    """A ranking's position-0 items: songs the API lists as no longer in the chart, ``old_position`` their last
    position. Kept beside the entries (any number of them per ranking), so a ranking's positions stay unique and its
    ``entry_count`` counts the chart's entries only; stored and replaced with the ranking (migration 0006)."""

    __tablename__ = "chart_ranking_dropout"
    __table_args__ = (
        # trends.ranking_entries: the drop-outs of a ranking
        Index("ix_dropout_ranking", "ranking_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ranking_id: Mapped[int] = mapped_column(ForeignKey("chart_ranking.id", ondelete="CASCADE"))
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id"))


class TrackTopRollup(Base):
    """Tracks' chart appearances over the ``days`` days ending ``window_end``, per platform (``platform_id`` 0: every
    platform): what ``analytics.top_tracks`` / ``platform_top_tracks`` read instead of the entries
    (``db/rollup.py`` keeps it, ``TrackTopRollupWindow`` says what it was built from)."""

    __tablename__ = "track_top_rollup"
    __table_args__ = (
        # analytics.top_tracks / platform_top_tracks: a window's tracks by appearances
        Index("ix_top_rollup_appearances", "window_end", "days", "platform_id", "appearances"),
    )

    window_end: Mapped[date] = mapped_column(Date, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"), primary_key=True)
    appearances: Mapped[int] = mapped_column(Integer)
    best_position: Mapped[int] = mapped_column(Integer)
    charts: Mapped[int] = mapped_column(Integer)


class RankingsSummedUp:
    """The successful rankings a rollup's rows were built from, summed up (counted, their entries and ids summed,
    the last fetch): a rollup is read only while the rankings stored now sum up the same."""

    rankings: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(BigInteger)
    ranking_ids: Mapped[int] = mapped_column(BigInteger)  # sum of the rankings' ids
    last_fetched_at: Mapped[datetime | None] = mapped_column(DateTime)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TrackTopRollupWindow(RankingsSummedUp, Base):
    """What a platform's ``TrackTopRollup`` rows were built from (else the query runs over the entries), and
    ``charts_stamp``, the charts' stamp (``rollup.charts_stamp``) when the window was last found to match its
    rankings: while the charts still carry it, no ranking was written since, and the sums need not be read again
    (migration 0011; None until a refresh records it)."""

    __tablename__ = "track_top_rollup_window"

    window_end: Mapped[date] = mapped_column(Date, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    charts_stamp: Mapped[str | None] = mapped_column(String(80))


class LabelShareRollup(RankingsSummedUp, Base):
    """The labels page of a scope (every chart: platform_id and chart_id 0; a platform: chart_id 0; a chart) over
    ``days`` ranking dates to ``window_end``, as built (``page``, JSON) from the successful rankings of its window and
    the window before, summed up like ``TrackTopRollupWindow``, and the tracks' metadata as last written
    (``metadata_fetched_at``): it is read only while both are still the same."""

    __tablename__ = "label_share_rollup"

    platform_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chart_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    window_end: Mapped[date] = mapped_column(Date)
    metadata_fetched_at: Mapped[datetime | None] = mapped_column(DateTime)
    page: Mapped[dict] = mapped_column(JSONType)


class TrackChartRollup(Base):
    """A track's summary on a chart over all its counted entries: what the track, compare and artist pages read
    instead of grouping a hit's tens of thousands of entries (``db/chart_rollup.py`` keeps it; a chart's rows are read
    only while ``TrackChartRollupChart`` holds the chart's current ``rankings_version``)."""

    __tablename__ = "track_chart_rollup"
    # a chart's rows, rebuilt together, and a chart page's tracks there (trends: whatever the planner's statistics
    # say, e.g. right after a rebuild, its scan holds both conditions; migration 0012)
    __table_args__ = (Index("ix_track_chart_rollup_chart", "chart_id", "track_id"),)

    track_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chart_id: Mapped[int] = mapped_column(ForeignKey("chart.id", ondelete="CASCADE"), primary_key=True)
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date] = mapped_column(Date)
    appearances: Mapped[int] = mapped_column(Integer)
    peak_position: Mapped[int] = mapped_column(Integer)
    peak_date: Mapped[date] = mapped_column(Date)  # the first day at the peak position
    last_position: Mapped[int] = mapped_column(Integer)  # its position on last_date
    # the chart's rankings that hold the track (a ranking may list it twice): a chart page's stored count and
    # streak of its latest ranking (migration 0012)
    rankings: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class TrackChartRollupChart(RankingsSummedUp, Base):
    """Which rankings a chart's ``TrackChartRollup`` rows hold: the chart's ``rankings_version`` when built, and its
    successful rankings with ids up to ``max_ranking_id`` summed up (so a refresh adds only newer rankings when
    those are still the same, and rebuilds the chart otherwise)."""

    __tablename__ = "track_chart_rollup_chart"

    chart_id: Mapped[int] = mapped_column(ForeignKey("chart.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    max_ranking_id: Mapped[int] = mapped_column(Integer)


class Artist(Base):
    __tablename__ = "artist"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(64), unique=True)
    slug: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(500))
    app_url: Mapped[str | None] = mapped_column(String(1000))
    image_url: Mapped[str | None] = mapped_column(String(1000))
    # the artist's metadata (contract 7.1), when fetched: "" (unknown) is stored as NULL
    country_code: Mapped[str | None] = mapped_column(String(8))
    genres: Mapped[list | None] = mapped_column(JSONType)
    career_stage: Mapped[str | None] = mapped_column(String(64))
    growth_level: Mapped[str | None] = mapped_column(String(64))
    artist_type: Mapped[str | None] = mapped_column(String(64))
    metadata_fetched_at: Mapped[datetime | None] = mapped_column(DateTime)
    # why the last metadata fetch found nothing (e.g. "not known to the API (404)"); NULL once it succeeds
    metadata_error: Mapped[str | None] = mapped_column(String(500))


class Track(Base):
    __tablename__ = "track"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    credit_name: Mapped[str | None] = mapped_column(String(1000))
    isrc: Mapped[str | None] = mapped_column(String(20), index=True)
    release_date: Mapped[date | None] = mapped_column(Date)
    image_url: Mapped[str | None] = mapped_column(String(1000))
    duration: Mapped[int | None] = mapped_column(Integer)
    explicit: Mapped[bool | None] = mapped_column(Boolean)
    genres: Mapped[list | None] = mapped_column(JSONType)
    labels: Mapped[list | None] = mapped_column(JSONType)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # every write of a track's metadata sets it: its latest value stamps the labels a label rollup was built from
    metadata_fetched_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class TrackArtist(Base):
    __tablename__ = "track_artist"

    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"), primary_key=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artist.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class TrackPlatformIdentifier(Base):
    __tablename__ = "track_platform_identifier"
    __table_args__ = (
        UniqueConstraint("track_id", "platform_code", "identifier", name="uq_identifier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"))
    platform_code: Mapped[str] = mapped_column(String(64))
    identifier: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(1000))
    is_default: Mapped[bool | None] = mapped_column(Boolean)


class TrackAudience(Base):
    __tablename__ = "track_audience"
    __table_args__ = (
        UniqueConstraint("track_id", "platform_id", "platform_identifier", "date", name="uq_audience_point"),
        # audience_series (a track page's audience): one track's points per platform by date, identifiers summed,
        # read from the index alone (migration 0007)
        Index("ix_audience_series", "track_id", "platform_id", "date", "audience_value"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    platform_identifier: Mapped[str] = mapped_column(String(255))
    date: Mapped[date] = mapped_column(Date)
    audience_value: Mapped[int] = mapped_column(BigInteger)
    fetched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    api_data: Mapped[dict | None] = mapped_column(JSONType)


class SyncRun(Base):
    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_kind_started", "kind", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(32), default="cli")
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")
    params: Mapped[dict | None] = mapped_column(JSONType)
    counts: Mapped[dict | None] = mapped_column(JSONType)
    errors: Mapped[list | None] = mapped_column(JSONType)
    quota_remaining: Mapped[int | None] = mapped_column(BigInteger)
    notebook_path: Mapped[str | None] = mapped_column(String(1000))
    log_path: Mapped[str | None] = mapped_column(String(1000))


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(200))
    target: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict | None] = mapped_column(JSONType)


class AudienceCheck(Base):
    """When a track's audience on a platform was last asked for, and whether the API had any (stale-first
    selection uses it so a track with no data on a platform is not asked again on every run)."""

    __tablename__ = "audience_check"

    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"), primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    had_data: Mapped[bool] = mapped_column(Boolean, default=False)


class WatchItem(Base):
    """The roster: tracks and artists the user follows."""

    __tablename__ = "watch_item"
    __table_args__ = (UniqueConstraint("kind", "uuid", name="uq_watch_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "track" or "artist"
    uuid: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(500))
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    added_by: Mapped[str | None] = mapped_column(String(200))


class AlertRule(Base):
    """A rule evaluated after each sync: enters the top N, re-enters, audience growth, chart stale."""

    __tablename__ = "alert_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict | None] = mapped_column(JSONType)
    roster_only: Mapped[bool] = mapped_column(Boolean, default=False)
    webhook_url: Mapped[str | None] = mapped_column(String(1000))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Alert(Base):
    """An alert a rule raised; ``dedupe_key`` keeps re-evaluations from raising it twice."""

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("rule_id", "dedupe_key", name="uq_alert_dedupe"),
        Index("ix_alert_fired_at", "fired_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rule.id", ondelete="CASCADE"))
    dedupe_key: Mapped[str] = mapped_column(String(500))
    fired_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    subject: Mapped[str | None] = mapped_column(String(500))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSONType)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivery_error: Mapped[str | None] = mapped_column(Text)


class Annotation(Base):
    """A dated note on a track (release, campaign, ...), drawn on its charts."""

    __tablename__ = "annotation"
    __table_args__ = (Index("ix_annotation_track_date", "track_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32), default="note")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))
