"""soundcharts-workbench: the SoundCharts API turned into a warehouse, jobs and dashboards.

The package is grouped by role (see the README's layout). The modules that sat at its top before are still importable
under their old names for one release, with a ``DeprecationWarning`` naming the new place, so custom pages and
notebooks written against the old layout keep working while they are updated.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED = {
    "client": "api.client", "payloads": "api.payloads", "ratelimit": "api.ratelimit",
    "sync": "jobs.sync", "audience": "jobs.audience", "metadata": "jobs.metadata",
    "maintenance": "jobs.maintenance", "backup": "jobs.backup", "joblock": "jobs.lock",
    "admin": "jobs.admin_actions", "jobresult": "jobs.result", "runtime": "jobs.runtime",
    "analytics": "warehouse.analytics", "trends": "warehouse.trends", "movers": "warehouse.movers",
    "lift": "warehouse.lift", "compare": "warehouse.markets", "quality": "warehouse.quality",
    "health": "warehouse.health", "quota": "warehouse.quota", "exports": "warehouse.exports",
    "audience_series": "warehouse.audience_series", "viewer_data": "warehouse.viewer_pages",
    "admin_data": "warehouse.admin_pages",
    "roster": "curation.roster", "annotations": "curation.annotations", "alerts": "curation.alerts",
    "webhooks": "curation.webhooks", "audit": "curation.audit",
    "ui.admin_charts": "ui.admin.charts", "ui.admin_common": "ui.admin.common", "ui.admin_history": "ui.admin.history",
    "ui.admin_notes": "ui.admin.notes", "ui.admin_roster": "ui.admin.roster", "ui.admin_track": "ui.admin.track",
    "pages": "ui.pages", "serve": "web.launch", "processes": "web.processes",
    "cli_audience": "cli.audience", "cli_export": "cli.export", "cli_maintenance": "cli.maintenance",
    "cli_roster": "cli.roster", "cliargs": "cli.args", "demo": "cli.demo", "dates": "vocab",
}
"""Old module name (under ``soundcharts_lib.``) → its room. ``jobs`` and ``cli`` are rooms now: their old modules
are ``jobs.runner`` and ``cli.main``."""


class MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import soundcharts_lib.<old>`` gives the moved module itself (one object, one state) and warns once."""

    def find_spec(self, fullname, path=None, target=None):
        old = fullname.removeprefix(f"{__name__}.")
        if old == fullname or old not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new = f"{__name__}.{MOVED[spec.name.removeprefix(f'{__name__}.')]}"
        warnings.warn(f"{spec.name} has moved to {new}; the old name goes in the next release",
                      DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new)
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module):
        # the import system gave the module the alias's spec: it keeps its own
        module.__spec__ = module.__spec__.loader_state


if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(MovedModules())
