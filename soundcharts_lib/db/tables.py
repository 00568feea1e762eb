"""Short handles on the tables, for the read-side query modules (analytics, trends, health, admin pages, ...)."""

from soundcharts_lib.db.models import (
    Artist,
    AudienceCheck,
    Chart,
    ChartRanking,
    ChartRankingEntry,
    Platform,
    SyncRun,
    Track,
    TrackArtist,
    TrackPlatformIdentifier,
)

A = Artist.__table__
C = Chart.__table__
CHECK = AudienceCheck.__table__
E = ChartRankingEntry.__table__
P = Platform.__table__
R = ChartRanking.__table__
RUN = SyncRun.__table__
T = Track.__table__
TA = TrackArtist.__table__
TPI = TrackPlatformIdentifier.__table__
