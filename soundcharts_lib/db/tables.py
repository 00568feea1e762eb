"""Short handles on the tables, one name per table for every query module (``AUD`` is the track audience, ``A`` the
artists)."""

from soundcharts_lib.db.models import (
    Artist,
    AudienceCheck,
    AuditEvent,
    Chart,
    ChartRanking,
    ChartRankingEntry,
    Platform,
    SyncRun,
    Track,
    TrackArtist,
    TrackAudience,
    TrackPlatformIdentifier,
)

A = Artist.__table__
AUD = TrackAudience.__table__
AUDIT = AuditEvent.__table__
C = Chart.__table__
CHECK = AudienceCheck.__table__
E = ChartRankingEntry.__table__
P = Platform.__table__
R = ChartRanking.__table__
RUN = SyncRun.__table__
T = Track.__table__
TA = TrackArtist.__table__
TPI = TrackPlatformIdentifier.__table__
