"""Pieces every admin page shares: the page frame with its navigation, a view whose data area reloads under
controls that stay, the action bar (progress and one-line outcome of admin actions), and small formatters."""

from __future__ import annotations

import html
import os
import threading
from collections.abc import Callable, Sequence

import ipywidgets as w
import pandas as pd

from soundcharts_lib.errors import ConfigError, SoundchartsError
from soundcharts_lib.jobs.admin_actions import Action, Runner, Status
from soundcharts_lib.ui.common import Page, guarded, loading_state, pill, stack, styled
from soundcharts_lib.ui.params import BadQuery

NAV = (("charts", "charts.ipynb", "Charts"), ("tracks", "tracks.ipynb", "Tracks"), ("roster", "roster.ipynb", "Roster"),
       ("runs", "runs.ipynb", "Runs"), ("audit", "audit.ipynb", "Audit log"))
STATE_TONES = {"ok": "up", "success": "up", "failing": "down", "failed": "down", "interrupted": "down", "stale": "warn",
               "partial": "warn", "refused": "warn", "running": "new", "inactive": "flat"}
ADMIN_CSS = """<style>
.sc-nav { display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: center; padding: 6px 0 2px;
  border-bottom: 1px solid var(--sc-line, #e5e7eb); font-size: 14px; }
.sc-nav a { color: var(--sc-blue, #2563eb); text-decoration: none; font-weight: 600; }
.sc-nav a.sc-current { color: var(--sc-ink, #111827); border-bottom: 2px solid var(--sc-blue, #2563eb); }
.sc-nav .sc-admin-tag { background: #111827; color: #fff; border-radius: 6px; padding: 1px 8px;
  font-size: 12px; }
.sc-nav .sc-nav-end { margin-left: auto; font-weight: 400; }
.sc-actions { flex-wrap: wrap; align-items: flex-end; gap: 6px 12px; }
.sc-action-bar { flex-wrap: wrap; align-items: center; gap: 4px 12px; min-height: 30px; }
.action-state { font-size: 14px; }
.action-success { color: #047857; } .action-failed, .action-invalid { color: #b91c1c; }
.action-partial, .action-refused { color: #92400e; } .action-running { color: var(--sc-muted, #6b7280); }
</style>"""


def nav_bar(current: str) -> w.HTML:
    """Links to the admin pages (``current`` marked) and back to the viewers' dashboards."""
    links = "".join(f'<a class="{"sc-current" if key == current else ""}" href="{href}">{label}</a>'
                    for key, href, label in NAV)
    body = (f'{ADMIN_CSS}<div class="sc-nav"><span class="sc-admin-tag">Admin</span>{links}'
            '<a class="sc-nav-end" href="../overview.ipynb">Dashboards ↗</a></div>')
    return styled(w.HTML(body), "sc-admin-nav")


def admin_page(title: str, subtitle: str, current: str) -> Page:
    """The dashboards' page frame with the admin navigation on top."""
    page = Page(title, subtitle)
    page.widget.children = [nav_bar(current), *page.widget.children]
    page.widget.add_class("sc-admin")
    return page


def server_link(path: str) -> str:
    """An absolute link to a path of this server (``VOILA_BASE_URL`` + ``path``)."""
    return os.environ.get("VOILA_BASE_URL", "/").rstrip("/") + "/" + path.lstrip("/")


def state_pill(state: str) -> str:
    return pill(state, STATE_TONES.get(state, "flat"))


def facts(rows: Sequence[tuple[str, str]]) -> str:
    """A definition list of ``(label, safe HTML)``; an empty value shows as a dash."""
    items = "".join(f'<dt>{html.escape(label)}</dt><dd>{value or "<span class=sc-sub>—</span>"}</dd>'
                    for label, value in rows)
    return f'<dl class="sc-facts">{items}</dl>'


def when(value) -> str:
    """A naive-UTC timestamp as YYYY-MM-DD HH:MM:SS (empty when missing)."""
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")


def choice(options: Sequence[tuple[str, str]], value: str | None, description: str, css: str) -> w.Dropdown:
    """A dropdown whose first option, "All", is the empty value; an unknown ``value`` falls back to it."""
    values = [v for _, v in options]
    return styled(w.Dropdown(options=[("All", ""), *options], value=value if value in values else "",
                             description=description, layout=w.Layout(width="auto")), css)


class View:
    """Controls that stay, above a data area that ``reload`` rebuilds (after a filter change or an action).

    Subclasses give ``controls`` and implement ``build()``, which reads the data and returns the data area.
    """

    def __init__(self, controls: Sequence[w.Widget]):
        self.data = w.VBox([loading_state()], layout=w.Layout(width="100%"))
        self.widget = stack([*controls, self.data])
        self._lock = threading.Lock()

    def build(self) -> w.Widget:
        raise NotImplementedError

    def render(self) -> w.Widget:
        """For :meth:`Page.show`: the first read raises (so the page shows not-found / error states)."""
        self.data.children = [self.build()]
        return self.widget

    def reload(self, *_) -> None:
        """Rebuild the data area; a failure shows in it."""
        with self._lock, guarded(self._show):
            self._show(self.build())

    def _show(self, content: w.Widget) -> None:
        self.data.children = [content]


def button(label: str, css: str, *, style: str = "", tooltip: str = "") -> w.Button:
    return styled(w.Button(description=label, button_style=style, tooltip=tooltip,
                           layout=w.Layout(width="auto")), css)


class ActionBar:
    """A progress bar and a one-line message for the actions started from a page; ``on_finished`` runs when
    an action ends, before its outcome shows (the page reloads its data)."""

    def __init__(self, runner: Runner, on_finished: Callable[[], None]):
        self.runner = runner
        self.on_finished = on_finished
        hidden = w.Layout(width="240px", display="none")
        self.bar = styled(w.IntProgress(value=0, min=0, max=1, layout=hidden), "action-progress")
        self.message = styled(w.HTML(""), "action-message")
        self.notice = styled(w.HTML(""), "action-notice")
        self.widget = styled(w.HBox([self.bar, self.message, self.notice]), "sc-action-bar")

    def run(self, make: Callable[[], Action]) -> None:
        """Start ``make()``'s action; bad input or a refusal shows as the notice, the page never waits."""
        try:
            action = make()
        except (ConfigError, BadQuery) as exc:
            self.notice.value = outcome_line("invalid", str(exc))
            return
        self.notice.value = ""
        status = self.runner.start(action, self.update)
        if status.state == "refused":
            self.notice.value = outcome_line("refused", status.message)

    def update(self, status: Status) -> None:
        self.bar.layout.display = ""
        self.bar.max = max(status.total, 1)
        self.bar.value = min(status.done, self.bar.max)
        if status.state == "running":
            self.bar.bar_style = "info"
            done = f"{status.done:,} of {status.total:,} {status.action.unit}"
            self.message.value = outcome_line("running", f"{status.action.title}: {done} · {status.elapsed:.0f} s")
            return
        self.on_finished()  # the data first, so the outcome shows over what it changed
        outcome = status.outcome
        self.bar.bar_style = {"success": "success", "partial": "warning"}.get(outcome.status, "danger")
        self.message.value = outcome_line(outcome.status, f"{status.action.title}: {outcome.message} "
                                                   f"({status.elapsed:.1f} s)")


def outcome_line(state: str, message: str) -> str:
    """``message`` in the colour of ``state`` (success, failed, invalid, partial, refused, running)."""
    return f'<span class="action-state action-{state}">{html.escape(message)}</span>'


def quick_action(notice: w.HTML, work: Callable[[], str], reload: Callable[[], None]) -> None:
    """Run ``work`` now (a quick edit through the library, such as a roster or a note change, audited there),
    ``reload``, then show its one-line message in ``notice``; bad input (``ConfigError``) shows as invalid, another
    error of the library (an API's answer) as failed."""
    try:
        state, message = "success", work()
    except ConfigError as exc:
        state, message = "invalid", str(exc)
    except SoundchartsError as exc:
        state, message = "failed", (str(exc).splitlines() or [""])[0]
    reload()
    notice.value = outcome_line(state, message)
