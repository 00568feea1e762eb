"""One short name per table, for every query module: ``AUD`` is the track audience, ``A`` the artists; and the
conditions of ``chart_ranking``'s partial indexes as queries must write them."""

from sqlalchemy import literal_column

from soundcharts_lib.db.models import (
    Alert,
    AlertRule,
    Annotation,
    Artist,
    AudienceCheck,
    AuditEvent,
    Chart,
    ChartRanking,
    ChartRankingDropout,
    ChartRankingEntry,
    LabelShareRollup,
    Platform,
    SyncRun,
    Track,
    TrackArtist,
    TrackAudience,
    TrackChartRollup,
    TrackChartRollupChart,
    TrackPlatformIdentifier,
    TrackTopRollup,
    TrackTopRollupWindow,
    WatchItem,
)
from soundcharts_lib.db.models_reach import (
    ArtistAudience,
    ArtistListeners,
    Digest,
    DigestDelivery,
    PlaylistSnapshot,
    SeriesCheck,
    TrackChartReach,
    TrackPopularity,
)

A = Artist.__table__
AFOL = ArtistAudience.__table__
ALIS = ArtistListeners.__table__
ALERT = Alert.__table__
AUD = TrackAudience.__table__
AUDIT = AuditEvent.__table__
C = Chart.__table__
CHECK = AudienceCheck.__table__
DIG = Digest.__table__
DIGD = DigestDelivery.__table__
DROP = ChartRankingDropout.__table__
E = ChartRankingEntry.__table__
LSR = LabelShareRollup.__table__
N = Annotation.__table__
P = Platform.__table__
PL = PlaylistSnapshot.__table__
POP = TrackPopularity.__table__
R = ChartRanking.__table__
REACH = TrackChartReach.__table__
RULE = AlertRule.__table__
RUN = SyncRun.__table__
SCHK = SeriesCheck.__table__
T = Track.__table__
TA = TrackArtist.__table__
TCR = TrackChartRollup.__table__
TCRC = TrackChartRollupChart.__table__
TPI = TrackPlatformIdentifier.__table__
TR = TrackTopRollup.__table__
TRW = TrackTopRollupWindow.__table__
WATCH = WatchItem.__table__

# A ranking stored whole (SUCCESS) or not (UNSUCCESSFUL), written as ix_ranking_success / ix_ranking_unsuccessful
# declare them: SQLite uses a partial index only for a query holding the same condition with the value written out
SUCCESS = R.c.status == literal_column("'success'")
UNSUCCESSFUL = R.c.status != literal_column("'success'")
