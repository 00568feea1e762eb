"""A local SoundCharts-compatible HTTP server with a deterministic, realistic catalog.

It follows /work/shared/soundcharts-api.md (paths with their version segments, envelopes, errors, paging,
``x-quota-remaining``): charts and rankings, songs, identifiers, audience and popularity (sections 2-4), artists
(section 7: :mod:`.artist_routes`) and a song's reach (section 8: :mod:`.reach_routes`); and it adds adversary
knobs: quota, per-minute rate limit, OAuth token expiry, seeded faults and latency (see :class:`LocalApiConfig`).
Standard library only, and independent of the rest of ``soundcharts_lib`` so that a misreading of the contract is
never shared with the client. By default the catalog is as untidy as the contract allows (:mod:`.untidy`,
:mod:`.artists`, :mod:`.artist_series`, :mod:`.song_reach` and :mod:`.playlists` list every kind and its share);
``LocalApiConfig(tidy=True)`` serves the tidy one, for benchmarks that need stable counts only.

    with running(LocalApiConfig(seed=7, today=datetime.date(2025, 3, 14))) as srv:
        srv.base_url   # "http://127.0.0.1:54321"
        srv.catalog    # charts, songs, ranking(slug, day), series(uuid, platform, kind), profiles, ...
        srv.stats()    # requests, by_path, faults, quota_remaining, ...
"""

from .catalog import Catalog
from .cli import add_arguments, run_from_args
from .config import LocalApiConfig
from .server import LocalApiServer, make_server, running

__all__ = ["Catalog", "LocalApiConfig", "LocalApiServer", "add_arguments", "make_server", "run_from_args",
           "running"]
