"""Admin pages of what happened: job runs (``runs.ipynb?kind=&status=``: outcome, counts, errors, the
archived notebook) and the audit log (``audit.ipynb?action=&outcome=``: who did what, when, to what, with what
outcome).

Views get loaders (callables returning what :mod:`warehouse.admin_pages` / :mod:`curation.audit`
return); they never read the database themselves.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import ipywidgets as w
import pandas as pd

from soundcharts_lib.curation.audit import OUTCOMES
from soundcharts_lib.jobs.admin_actions import TITLES
from soundcharts_lib.ui.admin.common import View, choice, server_link, state_pill, when
from soundcharts_lib.ui.common import Column, card, html_table, nothing, number, styled, text

RUN_STATES = ("running", "success", "partial", "failed", "interrupted")


def _duration(row: pd.Series) -> str:
    if row["finished_at"] is None or pd.isna(row["finished_at"]):
        return ""
    seconds = (pd.Timestamp(row["finished_at"]) - pd.Timestamp(row["started_at"])).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _counts(value) -> str:
    if not isinstance(value, dict):
        return ""
    return text(", ".join(f"{k.replace('_', ' ')} {v:,}" if isinstance(v, int) else f"{k} {v}"
                          for k, v in value.items()))


def _errors(value) -> str:
    if not value:
        return ""
    first = html.escape(str(value[0])[:200])
    more = f' <span class="sc-sub">(+{len(value) - 1} more)</span>' if len(value) > 1 else ""
    shown = "<br>".join(html.escape(str(e)[:300]) for e in value[:20])
    return f'<details><summary>{first}{more}</summary><div class="sc-sub">{shown}</div></details>'


def _notebook(row: pd.Series) -> str:
    if pd.isna(row["notebook_path"]) or not row["notebook_path"]:
        return ""
    base = server_link(f"soundcharts/admin/runs/{int(row['id'])}/notebook")
    return (f'<a class="run-notebook" target="_blank" href="{html.escape(base)}">view</a> · '
            f'<a class="run-download" download href="{html.escape(base)}.ipynb">download</a>')


RUN_COLUMNS = [
    Column("Run", lambda r: number(r["id"]), numeric=True),
    Column("Job", lambda r: text(r["kind"])),
    Column("Trigger", lambda r: text(r["trigger"])),
    Column("Started", lambda r: when(r["started_at"])),
    Column("Duration", _duration, numeric=True),
    Column("Outcome", lambda r: state_pill(r["status"])),
    Column("Counts", lambda r: _counts(r["counts"])),
    Column("Errors", lambda r: _errors(r["errors"])),
    Column("Quota left", lambda r: number(r["quota_remaining"]), numeric=True),
    Column("Notebook", _notebook),
]


class RunsView(View):
    """Job runs, newest first, filtered by job and outcome."""

    def __init__(self, load: Callable[[str | None, str | None], pd.DataFrame], kinds: Sequence[str], *,
                 kind: str | None = None, status: str | None = None):
        self.load = load
        self.kind = choice([(k, k) for k in kinds], kind, "Job", "run-kind")
        self.status = choice([(s, s) for s in RUN_STATES], status, "Outcome", "run-status")
        for control in (self.kind, self.status):
            control.observe(self.reload, "value")
        super().__init__([styled(w.HBox([self.kind, self.status]), "sc-actions")])

    def build(self) -> w.Widget:
        runs = self.load(self.kind.value or None, self.status.value or None)
        if runs.empty:
            return card("Runs", nothing("No run matches."), css_class="run-list")
        return card("Runs", w.HTML(html_table(runs, RUN_COLUMNS)), css_class="run-list")


AUDIT_COLUMNS = [
    Column("When (UTC)", lambda r: when(r["at"])),
    Column("Who", lambda r: text(r["actor"])),
    Column("Action", lambda r: text(TITLES.get(r["action"], r["action"]))),
    Column("Target", lambda r: text(r["target"])),
    Column("Outcome", lambda r: state_pill(r["outcome"])),
    Column("Message", lambda r: text(r["message"])),
    Column("Run", lambda r: number(r["run_id"]), numeric=True),
]


class AuditView(View):
    """The audit log, newest first, filtered by action (``actions``: the names in the log) and outcome."""

    def __init__(self, load: Callable[[str | None, str | None], pd.DataFrame], actions: Sequence[str], *,
                 action: str | None = None, outcome: str | None = None):
        self.load = load
        named = [(TITLES.get(name, name), name) for name in actions]
        self.action = choice(named, action, "Action", "audit-action")
        self.outcome = choice([(o, o) for o in OUTCOMES], outcome, "Outcome", "audit-outcome")
        for control in (self.action, self.outcome):
            control.observe(self.reload, "value")
        super().__init__([styled(w.HBox([self.action, self.outcome]), "sc-actions")])

    def build(self) -> w.Widget:
        events = self.load(self.action.value or None, self.outcome.value or None)
        if events.empty:
            return card("Audit log", nothing("No admin action recorded yet."), css_class="audit-log")
        return card("Audit log", w.HTML(html_table(events, AUDIT_COLUMNS)), css_class="audit-log")
