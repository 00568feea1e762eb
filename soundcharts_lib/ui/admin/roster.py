"""The admin roster page (``roster.ipynb``): the tracks and artists followed, added by UUID or from a track
search, removed by selection, and any song followed by ISRC, Spotify link or platform id (as ``soundcharts follow``
does). Each change goes through :mod:`soundcharts_lib.curation.roster` (as ``soundcharts roster`` does), which writes
the audit event.

:class:`RosterView` gets callables around :func:`curation.roster.items`, ``add`` and ``remove``, a track
search (:func:`soundcharts_lib.warehouse.admin_pages.tracks`' rows) and a song follower
(:func:`soundcharts_lib.jobs.follow.follow_given`); it never reads the database itself.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w
import pandas as pd

from soundcharts_lib.errors import ConfigError
from soundcharts_lib.ui.admin.common import View, button, quick_action, when
from soundcharts_lib.ui.admin.track import Picker, track_label
from soundcharts_lib.ui.common import (
    Column,
    card,
    dashboard_link,
    html_table,
    link,
    nothing,
    number,
    pill,
    styled,
    text,
)
from soundcharts_lib.ui.credits import artist_link

KINDS = (("Track", "track"), ("Artist", "artist"))
FOLLOW_BY = (("ISRC", "isrc"), ("Spotify link or id", "spotify"), ("Platform id", "platform"))


def _name(row: pd.Series) -> str:
    label = row["label"] if isinstance(row["label"], str) and row["label"] else row["uuid"]
    if row["kind"] == "track" and row["stored"]:
        return link(f"../{dashboard_link('track.ipynb', uuid=row['uuid'])}", label)
    if row["kind"] == "artist" and row["stored"]:
        return artist_link(row["uuid"], label, prefix="../")
    return text(label)


ROSTER_COLUMNS = [
    Column("Kind", lambda r: text(r["kind"])),
    Column("Name", _name),
    Column("UUID", lambda r: f"<code>{text(r['uuid'])}</code>"),
    Column("Stored", lambda r: "yes" if r["stored"] else pill("not stored yet", "warn")),
    Column("Tracks", lambda r: number(r["tracks"]), numeric=True),
    Column("Added", lambda r: when(r["added_at"]), nowrap=True),
    Column("By", lambda r: text(r["added_by"])),
]


def item_key(row: pd.Series) -> str:
    return f"{row['kind']}:{row['uuid']}"


class RosterView(View):
    """Add by UUID (track or artist) or from a track search, remove the items selected; the list reloads."""

    def __init__(self, load: Callable[[], pd.DataFrame], find: Callable[[str], pd.DataFrame],
                 add: Callable[[str, str, str | None], dict], remove: Callable[[str, str], None],
                 follow: Callable[[str, str, str | None], str] | None = None):
        self.load, self.find, self._add, self._remove, self._follow = load, find, add, remove, follow
        self.kind = styled(w.Dropdown(options=KINDS, value="track", description="Follow a",
                                      layout=w.Layout(width="auto")), "roster-kind")
        self.uuid = styled(w.Text(placeholder="SoundCharts UUID", layout=w.Layout(width="330px")), "roster-uuid")
        self.label = styled(w.Text(placeholder="label (optional)", layout=w.Layout(width="200px")), "roster-label")
        add = button("Add", "roster-add", style="primary")
        add.on_click(lambda _: self.act(self.add_uuid))
        self.search = styled(w.Text(placeholder="name, artist, ISRC or UUID", description="Find a track",
                                    continuous_update=False, style={"description_width": "auto"},
                                    layout=w.Layout(width="380px")), "roster-search")
        self.search.observe(lambda _: self.show_found(), "value")
        self.found = Picker("found", "roster-found", rows=6)
        self.found_count = styled(w.HTML(""), "roster-found-count")
        add_found = button("Add the tracks selected", "roster-add-found", style="primary")
        add_found.on_click(lambda _: self.act(self.add_found))
        self.picker = Picker("followed", "roster-select")
        remove = button("Remove the items selected", "roster-remove", style="danger")
        remove.on_click(lambda _: self.act(self.remove_selected))
        self.notice = styled(w.HTML(""), "action-notice")
        rows = [styled(w.HBox([self.kind, self.uuid, self.label, add]), "sc-actions"),
                styled(w.HBox([self.search, self.found_count]), "sc-actions"),
                styled(w.HBox([self.found.widget, add_found]), "sc-actions")]
        if follow is not None:  # any song, stored or not, charting or not: resolved by the API
            self.follow_by = styled(w.Dropdown(options=FOLLOW_BY, value="isrc", description="Follow a song by",
                                               style={"description_width": "auto"}, layout=w.Layout(width="auto")),
                                    "roster-follow-by")
            self.follow_platform = styled(w.Text(placeholder="platform code", layout=w.Layout(width="130px")),
                                          "roster-follow-platform")
            self.follow_value = styled(w.Text(placeholder="ISRC, Spotify link or id", layout=w.Layout(width="330px")),
                                       "roster-follow-value")
            go = button("Follow", "roster-follow", style="primary")
            go.on_click(lambda _: self.act(self.follow_song))
            rows.append(styled(w.HBox([self.follow_by, self.follow_platform, self.follow_value, go]), "sc-actions"))
        adding = card("Add to the roster", *rows, css_class="roster-adding")
        removing = card("Remove from the roster", styled(w.HBox([self.picker.widget, remove]), "sc-actions"),
                        css_class="roster-removing")
        super().__init__([adding, removing, styled(w.HBox([self.notice]), "sc-action-bar")])

    def build(self) -> w.Widget:
        items = self.load()
        self.picker.offer([(f"{r['kind']}: {r['label'] or r['uuid']}"[:90], item_key(r)) for _, r in items.iterrows()])
        if items.empty:
            return card("Roster", nothing("Nothing is followed yet: add a track or an artist above."),
                        css_class="roster-list")
        tracks = int(items.loc[items["stored"], "tracks"].sum())
        head = nothing(f"{len(items):,} items followed; the dashboards' \"My roster only\" filter keeps "
                       f"{tracks:,} stored tracks (some may be counted twice: a track and its artist).")
        return card("Roster", head, w.HTML(html_table(items, ROSTER_COLUMNS)), css_class="roster-list")

    def act(self, work: Callable[[], str]) -> None:
        quick_action(self.notice, work, self.reload)

    def add_uuid(self) -> str:
        done = self._add(self.kind.value, self.uuid.value.strip(), self.label.value.strip() or None)
        self.uuid.value, self.label.value = "", ""
        return _added([done])

    def follow_song(self) -> str:
        """Follow the song in the box (its platform code only for a platform id); the box is emptied once done."""
        platform = self.follow_platform.value if self.follow_by.value == "platform" else None
        done = self._follow(self.follow_by.value, self.follow_value.value, platform)
        self.follow_value.value, self.follow_platform.value = "", ""
        return done

    def show_found(self) -> None:
        wanted = self.search.value.strip()
        rows = self.find(wanted) if wanted else pd.DataFrame(columns=["uuid", "name", "artist"])
        self.found.offer([(track_label(r), r["uuid"]) for _, r in rows.iterrows()])
        self.found_count.value = "" if not wanted else \
            f'<span class="sc-sub">{len(rows):,} track{"s" * (len(rows) != 1)} found</span>' if len(rows) else \
            f'<span class="sc-sub">No track matches {text(wanted)}.</span>'

    def add_found(self) -> str:
        chosen = self.found.selected()
        if not chosen:
            raise ConfigError("choose tracks in the search results first")
        return _added([self._add("track", uuid, None) for uuid in chosen])

    def remove_selected(self) -> str:
        chosen = self.picker.selected()
        if not chosen:
            raise ConfigError("choose what to remove first")
        for key in chosen:
            kind, uuid = key.split(":", 1)
            self._remove(kind, uuid)
        return f"removed {len(chosen)} item{'s' * (len(chosen) != 1)} from the roster"


def _added(results: list[dict]) -> str:
    new = [r for r in results if r["added"]]
    names = ", ".join(r["label"] or r["uuid"] for r in new[:3]) + (" …" if len(new) > 3 else "")
    message = f"added {len(new)} to the roster" + (f": {names}" if new else "")
    if len(new) < len(results):
        message += f" ({len(results) - len(new)} already on it)"
    if any(not r["stored"] for r in new):
        message += "; not stored yet, it counts once a sync stores it"
    return message
