"""Voila with the JSON endpoints on one port: ``python -m soundcharts_lib.web.app DASHBOARDS [voila args]``.

A ``voila.app.Voila`` subclass whose handlers start with ours; nothing of the Jupyter REST API is exposed.
"""

from __future__ import annotations

import gc

from voila.app import Voila

from .handlers import handlers


class WorkbenchVoila(Voila):
    """Voila serving the dashboards plus ``/soundcharts/...`` JSON endpoints."""

    def init_handlers(self) -> list:
        return handlers(self.server_url) + super().init_handlers()

    def start(self) -> None:
        # What start-up imported (Jupyter, pandas, SQLAlchemy) leaves the garbage collector's view, so a full
        # collection no longer walks it: that removed ~130 ms pauses from large responses (tests/bench).
        gc.freeze()
        super().start()


main = WorkbenchVoila.launch_instance

if __name__ == "__main__":
    main()
