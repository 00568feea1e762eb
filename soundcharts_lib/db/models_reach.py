"""Tables of the extension endpoints (contract sections 7 and 8): an artist's followers and monthly listeners, a
song's reach (its chart entries everywhere, popularity, playlists), when each series was last asked for, and the
daily digest with its deliveries.

Series follow the track audience's rules: one row per subject, platform and date (a re-fetch overwrites the day);
gaps are absent rows, never zeros. Snapshots (chart entries everywhere, playlists) are what the API said on the day
they were fetched (``fetched_on``): a day's snapshot of a track on a platform is replaced whole or not at all.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from soundcharts_lib.db.base import Base, JSONType, utcnow

BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class ArtistAudience(Base):
    """An artist's followers on a platform by day (contract 7.3): running totals."""

    __tablename__ = "artist_audience"
    __table_args__ = (UniqueConstraint("artist_id", "platform_id", "date", name="uq_artist_audience_point"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artist.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    date: Mapped[date] = mapped_column(Date)
    followers: Mapped[int] = mapped_column(BigInteger)
    fetched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ArtistListeners(Base):
    """An artist's monthly listeners on a platform by day (contract 7.4): they go up and down."""

    __tablename__ = "artist_listeners"
    __table_args__ = (UniqueConstraint("artist_id", "platform_id", "date", name="uq_artist_listeners_point"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artist.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    date: Mapped[date] = mapped_column(Date)
    value: Mapped[int] = mapped_column(BigInteger)
    fetched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SeriesCheck(Base):
    """When a subject's series on a platform was last asked for, whether the API had any, and why not (stale-first
    selection: a subject with nothing on a platform is not asked again on every run).

    ``subject`` is "artist" or "track" (``subject_id`` the row's id); ``series`` one of "followers", "listeners"
    (artists), "charts", "popularity", "playlists" (tracks)."""

    __tablename__ = "series_check"

    subject: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"), primary_key=True)
    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    had_data: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(String(500))


class TrackChartReach(Base):
    """A song's entry on a chart anywhere (contract 8.1, ``currentOnly``), as the API said on ``fetched_on``: the
    chart as the API names it (it need not be a synced chart)."""

    __tablename__ = "track_chart_reach"
    __table_args__ = (
        UniqueConstraint("track_id", "platform_id", "fetched_on", "chart_slug", name="uq_track_chart_reach"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    fetched_on: Mapped[date] = mapped_column(Date)
    chart_slug: Mapped[str] = mapped_column(String(255))
    chart_name: Mapped[str | None] = mapped_column(String(500))
    chart_type: Mapped[str | None] = mapped_column(String(100))
    country_code: Mapped[str | None] = mapped_column(String(8))     # NULL: a global chart
    position: Mapped[int] = mapped_column(Integer)
    position_evolution: Mapped[int | None] = mapped_column(Integer)
    peak_position: Mapped[int | None] = mapped_column(Integer)
    peak_date: Mapped[date | None] = mapped_column(Date)
    entry_state: Mapped[str | None] = mapped_column(String(32))
    rank_date: Mapped[date | None] = mapped_column(Date)
    time_on_chart: Mapped[int | None] = mapped_column(Integer)
    time_on_chart_unit: Mapped[str | None] = mapped_column(String(16))


class TrackPopularity(Base):
    """A song's popularity on a platform by day (contract 8.3)."""

    __tablename__ = "track_popularity"
    __table_args__ = (UniqueConstraint("track_id", "platform_id", "date", name="uq_track_popularity_point"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    date: Mapped[date] = mapped_column(Date)
    value: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PlaylistSnapshot(Base):
    """A playlist a song was on (contract 8.4, current), as the API said on ``fetched_on``."""

    __tablename__ = "playlist_snapshot"
    __table_args__ = (
        UniqueConstraint("track_id", "platform_id", "fetched_on", "playlist_uuid", name="uq_playlist_snapshot"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    fetched_on: Mapped[date] = mapped_column(Date)
    playlist_uuid: Mapped[str] = mapped_column(String(64))
    playlist_name: Mapped[str | None] = mapped_column(String(500))
    playlist_type: Mapped[str | None] = mapped_column(String(64))
    country_code: Mapped[str | None] = mapped_column(String(8))     # NULL: a global playlist
    subscribers: Mapped[int | None] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)
    peak_position: Mapped[int | None] = mapped_column(Integer)
    entry_date: Mapped[date | None] = mapped_column(Date)


class Digest(Base):
    """A roster digest of a period, rendered once (its HTML kept, so a delivery that failed re-sends the same)."""

    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("period_start", "period_end", name="uq_digest_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    subject: Mapped[str] = mapped_column(String(500))
    html: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict | None] = mapped_column(JSONType)


class DigestDelivery(Base):
    """One recipient of a digest: ``target`` is an e-mail address or ``webhook:`` and a hash of its URL (a
    webhook's URL is a secret, never stored). ``sent_at`` NULL: not sent yet (the next run tries again)."""

    __tablename__ = "digest_delivery"
    __table_args__ = (
        UniqueConstraint("digest_id", "target", name="uq_digest_delivery"),
        Index("ix_digest_delivery_unsent", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digest.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(320))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
