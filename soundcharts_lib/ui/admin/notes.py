"""A track's notes on its admin page: add one (date, kind, text), remove the one chosen. Each change goes through
:mod:`soundcharts_lib.curation.annotations` (as ``soundcharts annotations`` does), which writes the audit event; the
dashboards' track page draws the notes on its charts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import ipywidgets as w
import pandas as pd

from soundcharts_lib.curation.annotations import SUGGESTED_KINDS
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.ui.admin.common import button, quick_action
from soundcharts_lib.ui.annotations import NOTE_COLUMNS
from soundcharts_lib.ui.common import card, html_table, nothing, styled


class NotesEditor:
    """``load()`` gives the track's notes (:func:`curation.annotations.for_track`), ``add(day, kind, text)``
    and ``remove(note_id)`` change them."""

    def __init__(self, load: Callable[[], pd.DataFrame], add: Callable[[date | None, str, str], int],
                 remove: Callable[[int], None]):
        self.load, self._add, self._remove = load, add, remove
        self.day = styled(w.DatePicker(description="Date", layout=w.Layout(width="auto")), "note-date")
        self.kind = styled(w.Combobox(value="release", options=list(SUGGESTED_KINDS), description="Kind",
                                      ensure_option=False, layout=w.Layout(width="220px")), "note-kind")
        self.text = styled(w.Text(placeholder="what happened", description="Note",
                                  layout=w.Layout(width="min(420px, 100%)")), "note-text")
        add_button = button("Add note", "note-add", style="primary")
        add_button.on_click(lambda _: quick_action(self.notice, self.add, self.reload))
        self.choice = styled(w.Dropdown(options=[], description="Note", layout=w.Layout(width="auto")),
                             "note-select")
        remove_button = button("Remove note", "note-remove", style="danger")
        remove_button.on_click(lambda _: quick_action(self.notice, self.remove, self.reload))
        self.notice = styled(w.HTML(""), "action-notice")
        self.list = w.VBox()
        self.widget = card("Notes", self.list,
                           styled(w.HBox([self.day, self.kind, self.text, add_button]), "sc-actions"),
                           styled(w.HBox([self.choice, remove_button]), "sc-actions"),
                           styled(w.HBox([self.notice]), "sc-action-bar"), css_class="track-notes-admin")

    def reload(self) -> None:
        notes = self.load()
        options = [(f"{n['date']} {n['kind']}: {n['text']}"[:80], int(n["id"])) for _, n in notes.iterrows()]
        self.choice.options = options
        self.choice.value = options[0][1] if options else None
        self.list.children = [w.HTML(html_table(notes, NOTE_COLUMNS)) if len(notes) else
                              nothing("No notes yet: they show as dashed lines on the track's charts.")]

    def add(self) -> str:
        kind = (self.kind.value or "").strip().lower()
        self._add(self.day.value, kind, self.text.value)
        self.text.value = ""
        return f"note added on {self.day.value} ({kind})"

    def remove(self) -> str:
        if self.choice.value is None:
            raise ConfigError("choose a note to remove first")
        self._remove(self.choice.value)
        return "note removed"
