"""Admin pages of tracks: one track (``track.ipynb?uuid=``: metadata, identifiers, audience status per
platform) and the track list (``tracks.ipynb?q=&missing=``), each with the track actions: fetch metadata,
fetch audience on chosen platforms (forced or not), for one track or many selected at once.

Views get loaders (callables returning what :mod:`soundcharts_lib.warehouse.admin_pages` returns); they never read the
database themselves.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence

import ipywidgets as w
import pandas as pd

from soundcharts_lib.jobs import admin_actions as admin
from soundcharts_lib.jobs.admin_actions import Runner
from soundcharts_lib.ui import track as track_page
from soundcharts_lib.ui.admin.common import ActionBar, View, button, choice, facts, state_pill, when
from soundcharts_lib.ui.admin.notes import NotesEditor
from soundcharts_lib.ui.common import (
    Column,
    card,
    dashboard_link,
    day,
    first,
    grid,
    html_table,
    link,
    nothing,
    number,
    pill,
    styled,
    text,
)
from soundcharts_lib.ui.credits import artists_column, artists_html

MISSING = (("Metadata never fetched", "metadata"), ("No audience stored", "audience"))
Platforms = Sequence[tuple[str, str]]  # (slug, name) of the audience platforms


class Picker:
    """A multi-select of rows (``(label, value)``) with "All" and "None" buttons; the selection survives a
    reload for the rows still offered."""

    def __init__(self, what: str, css: str, rows: int = 8):
        self.select = styled(w.SelectMultiple(options=[], rows=rows, description=what.capitalize(),
                                              layout=w.Layout(width="min(560px, 100%)")), css)
        every, none = button("All", f"{css}-all"), button("None", f"{css}-none")
        every.on_click(lambda _: setattr(self.select, "value", tuple(v for _, v in self.select.options)))
        none.on_click(lambda _: setattr(self.select, "value", ()))
        self.widget = styled(w.HBox([self.select, w.VBox([every, none])]), "sc-actions")

    def offer(self, options: Sequence[tuple[str, str]]) -> None:
        kept = [v for v in self.select.value if v in {value for _, value in options}]
        self.select.options = list(options)
        self.select.value = tuple(kept)

    def selected(self) -> list[str]:
        return list(self.select.value)


class TrackActions:
    """Fetch metadata / fetch audience for ``selected()`` tracks; audience on the chosen platforms (none
    chosen: every audience platform), forced or incremental."""

    def __init__(self, runner: Runner, selected: Callable[[], list[str]], platforms: Platforms,
                 on_finished: Callable[[], None], picker: Picker | None = None):
        self.selected = selected
        self.known = len(platforms)
        options = [(f"{name} ({slug})", slug) for slug, name in platforms]
        self.platforms = styled(w.SelectMultiple(options=options, rows=min(max(len(options), 2), 6),
                                                 description="Platforms", layout=w.Layout(width="300px")),
                                "audience-platforms")
        self.force = styled(w.Checkbox(value=False, description="Force: refetch the whole range",
                                       indent=False, layout=w.Layout(width="auto")), "audience-force")
        self.bar = ActionBar(runner, on_finished)
        metadata = button("Fetch metadata", "fetch-metadata", style="primary")
        audience = button("Fetch audience", "fetch-audience", style="primary")
        metadata.on_click(lambda _: self.bar.run(lambda: admin.fetch_metadata(self.selected())))
        audience.on_click(lambda _: self.bar.run(self._audience))
        hint = nothing("No platform chosen = every audience platform." if platforms else
                       "No audience platform is known yet: the first fetch asks the API for all of them.")
        self.platforms.layout.display = "" if platforms else "none"
        row = styled(w.HBox([self.platforms, w.VBox([self.force, hint]), metadata, audience]), "sc-actions")
        parts = [picker.widget] if picker else []
        self.widget = card("Actions", *parts, row, self.bar.widget, css_class="track-actions")

    def _audience(self) -> admin.Action:
        return admin.fetch_audience(self.selected(), list(self.platforms.value), force=self.force.value,
                                    known_platforms=self.known)


# -- one track ----------------------------------------------------------------------------------------------

def _track_facts(track: dict, appearances: int) -> str:
    duration = f"{track['duration'] // 60}:{track['duration'] % 60:02d}" if track["duration"] else ""
    fetched = when(track["metadata_fetched_at"]) or pill("never fetched", "warn")
    artists = artists_html(track["artists"], prefix="../") or text(track["credit_name"])
    rows = [("UUID", f"<code>{text(track['uuid'])}</code>"), ("Artists", artists),
            ("ISRC", text(track["isrc"])), ("Release date", day(track["release_date"])),
            ("Duration", duration),
            ("Explicit", text({True: "yes", False: "no"}.get(track["explicit"], ""))),
            ("Genres", text(", ".join(track["genres"] or []))),
            ("Labels", text(", ".join(track["labels"] or []))),
            ("Metadata fetched", fetched), ("Chart entries stored", number(appearances))]
    viewer = link(f"../{dashboard_link('track.ipynb', uuid=track['uuid'])}", "Open in the dashboards ↗")
    return f'<h2>{text(track["name"])}</h2>{facts(rows)}{viewer}'


def _audience_state(row: pd.Series) -> str:
    if pd.notna(row["days"]) and row["days"]:
        return state_pill("ok") if not row["gaps"] else pill(f"{int(row['gaps'])} missing days", "warn")
    if pd.notna(row["checked_at"]):
        return pill("no data from the API", "flat")
    return pill("never fetched", "warn")


AUDIENCE_COLUMNS = [
    Column("Platform", lambda r: text(first(r["name"], r["platform"]))),
    Column("Status", _audience_state),
    Column("Identifiers", lambda r: number(r["identifiers"]), numeric=True),
    Column("First date", lambda r: day(r["first_date"])),
    Column("Last date", lambda r: day(r["last_date"])),
    Column("Days", lambda r: number(r["days"]), numeric=True),
    Column("Gaps", lambda r: number(r["gaps"]), numeric=True),
    Column("Last fetched", lambda r: when(r["fetched_at"])),
    Column("Last asked", lambda r: when(r["checked_at"])),
]
IDENTIFIER_COLUMNS = [*track_page.IDENTIFIER_COLUMNS, Column("Default", lambda r: "yes" if r["is_default"] else "")]


class TrackView(View):
    """One track: its facts, platform identifiers and audience status, with the track actions (and its notes'
    editor under them)."""

    def __init__(self, load: Callable[[], dict], platforms: Platforms, uuid: str, runner: Runner,
                 notes: NotesEditor | None = None):
        self.load, self.notes = load, notes
        self.actions = TrackActions(runner, lambda: [uuid], platforms, self.reload)
        super().__init__([self.actions.widget])
        if notes is not None:
            self.widget.children = [*self.widget.children, notes.widget]

    def build(self) -> w.Widget:
        data = self.load()
        if self.notes is not None:
            self.notes.reload()
        track = data["track"]
        about = card("Track", w.HTML(_track_facts(track, data["appearances"])), css_class="track-facts")
        identifiers = (w.HTML(html_table(track["identifiers"], IDENTIFIER_COLUMNS))
                       if len(track["identifiers"]) else nothing("No identifier stored: fetch the metadata."))
        audience = (w.HTML(html_table(data["audience"], AUDIENCE_COLUMNS)) if len(data["audience"])
                    else nothing("No audience platform is known yet and none holds points of this track."))
        return w.VBox([grid([about, card("Identifiers", identifiers, css_class="track-identifiers")]),
                       card("Audience per platform", audience, css_class="audience-status")],
                      layout=w.Layout(grid_gap="16px"))


# -- the track list -----------------------------------------------------------------------------------------

def track_label(row: pd.Series) -> str:
    artist = f" — {row['artist']}" if row["artist"] else ""
    return f"{row['name']}{artist}"[:90]


def track_columns(credits: Mapping) -> list[Column]:
    """The track list's columns, the artists linked to the artist page (``credits``: ``{track uuid: artists}``)."""
    return [TRACK_COLUMNS[0], artists_column(credits, prefix="../"), *TRACK_COLUMNS[1:]]


TRACK_COLUMNS = [  # without the artists: see track_columns
    Column("Track", lambda r: link(dashboard_link("track.ipynb", uuid=r["uuid"]), r["name"])),
    Column("ISRC", lambda r: text(r["isrc"])),
    Column("Metadata", lambda r: when(r["metadata_fetched_at"])[:10] or pill("missing", "warn")),
    Column("Audience platforms", lambda r: number(r["audience_platforms"]), numeric=True),
    Column("Last audience day", lambda r: day(r["last_audience"])),
]


class TracksView(View):
    """Tracks found by name / artist / ISRC / UUID, or missing metadata or audience; bulk actions on a
    selection."""

    def __init__(self, load: Callable[[str | None, str | None], dict], platforms: Platforms,
                 runner: Runner, *, search: str | None = None, missing: str | None = None):
        self.load = load
        self.search = styled(w.Text(value=search or "", placeholder="name, artist, ISRC or UUID",
                                    description="Find", continuous_update=False,
                                    layout=w.Layout(width="320px")), "track-search")
        self.missing = choice(MISSING, missing, "Show", "track-missing")
        self.search.observe(self.reload, "value")
        self.missing.observe(self.reload, "value")
        self.picker = Picker("tracks", "track-select")
        self.actions = TrackActions(runner, self.picker.selected, platforms, self.reload, picker=self.picker)
        super().__init__([styled(w.HBox([self.search, self.missing]), "sc-actions"), self.actions.widget])

    def build(self) -> w.Widget:
        found = self.load(self.search.value.strip() or None, self.missing.value or None)
        rows = found["rows"]
        self.picker.offer([(track_label(r), r["uuid"]) for _, r in rows.iterrows()])
        shown = f"{len(rows):,} of {found['total']:,} tracks" if found["total"] > len(rows) else \
            f"{found['total']:,} tracks"
        if rows.empty:
            return card("Tracks", nothing("No track matches."), css_class="track-list")
        head = w.HTML(f'<div class="sc-sub track-count">{html.escape(shown)}</div>')
        return card("Tracks", head, w.HTML(html_table(rows, track_columns(found["credits"]))), css_class="track-list")
