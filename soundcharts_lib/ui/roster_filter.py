"""The "my roster" filter of a viewer page: a toggle under the page header, shown only when a roster exists.

``?roster=1`` turns it on (a deep link); toggling re-reads the page (:meth:`Page.refresh`), and the link next to
the toggle is the address of what is shown. The page's loader reads :attr:`RosterFilter.on`.
"""

from __future__ import annotations

from urllib.parse import urlencode

import ipywidgets as w

from soundcharts_lib.ui.common import Page, keep_roster_in_links, nothing, styled
from soundcharts_lib.ui.params import Query

CSS = """<style>
.roster-filter { align-items: center; gap: 4px 12px; flex-wrap: wrap; margin: 0 0 10px; }
.roster-filter .roster-toggle.mod-active { background: #fef3c7; color: #92400e; }
</style>"""
ROSTER_TITLE = " · your roster"  # ends the title of a table kept to the roster
ON_SCOPE = "tables of tracks, their downloads and alerts show your roster; ranking counts stay whole"
NO_ROSTER = "Your roster is empty, so the page shows everything: follow tracks or artists on the admin Roster page " \
            "or with soundcharts roster add."


class RosterFilter:
    """The toggle for ``page`` (``exists``: whether the roster has items); put under the page's header."""

    def __init__(self, page: Page, exists: bool, query: Query):
        self.page, self.query = page, query
        wanted = query.flag("roster")
        self.toggle = styled(w.ToggleButton(value=wanted and exists, description="My roster only", icon="star",
                                            tooltip="Show only the tracks you follow (and your artists' tracks)",
                                            layout=w.Layout(width="auto")), "roster-toggle")
        self.link = styled(w.HTML(), "roster-link")
        parts = [w.HTML(CSS), self.toggle, self.link] if exists else [nothing(NO_ROSTER)] if wanted else []
        self.widget = styled(w.HBox(parts, layout=w.Layout(display="" if parts else "none")), "roster-filter")
        self._set_link()
        self.toggle.observe(self._toggled, "value")
        header, *rest = page.widget.children
        page.widget.children = [header, self.widget, *rest]

    @property
    def on(self) -> bool:
        return bool(self.toggle.value)

    def _toggled(self, _change) -> None:
        self._set_link()
        self.page.refresh()

    def _set_link(self) -> None:
        keep_roster_in_links(self.on)
        values = {k: v[-1] for k, v in self.query.values.items() if k != "roster"}
        href = "?" + urlencode({**values, "roster": "1"} if self.on else values)
        label = "link to your roster's view" if self.on else "link to this view"
        scope = f'<span class="sc-sub">{ON_SCOPE} · </span>' if self.on else ""
        self.link.value = f'{scope}<a class="sc-sub" href="{href}">{label}</a>'
