"""Shared dashboard pieces: page frame, loading/empty/error states, cards and escaped HTML tables."""

from __future__ import annotations

import html
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

import ipywidgets as w
import pandas as pd
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..errors import SoundchartsError

BLUE = "#2563eb"
LIGHT_BLUE = "#93c5fd"
INK = "#111827"
MUTED = "#6b7280"
GREEN = "#059669"
RED = "#dc2626"

CSS = f"""
<style>
.sc-page {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: {INK};
  max-width: 1200px; margin: 0 auto; padding: 8px 16px 32px; }}
.sc-header h1 {{ font-size: 26px; font-weight: 700; margin: 8px 0 2px; }}
.sc-header p {{ color: {MUTED}; margin: 0 0 12px; font-size: 14px; }}
.sc-card {{ background: #fff; border: 1px solid #e5e7eb; border-radius: 12px;
  box-shadow: 0 1px 3px rgba(17, 24, 39, .06); padding: 14px 18px; margin: 0; overflow: hidden; }}
.sc-card-title {{ font-size: 13px; font-weight: 600; color: {MUTED}; text-transform: uppercase;
  letter-spacing: .04em; }}
.sc-kpi {{ font-size: 34px; font-weight: 700; line-height: 1.15; }}
.sc-sub {{ color: {MUTED}; font-size: 13px; }}
.sc-pill {{ display: inline-block; border-radius: 999px; padding: 2px 10px; font-weight: 600;
  font-size: 13px; margin-right: 6px; }}
.sc-up {{ background: #d1fae5; color: {GREEN}; }}
.sc-down {{ background: #fee2e2; color: {RED}; }}
.sc-flat {{ background: #f3f4f6; color: {MUTED}; }}
.sc-meter {{ background: #e5e7eb; border-radius: 999px; height: 8px; margin-top: 8px; }}
.sc-meter > div {{ background: {BLUE}; border-radius: 999px; height: 8px; }}
.sc-table {{ width: 100%; border-collapse: collapse; font-size: 14px; }}
.sc-table th {{ text-align: left; color: {MUTED}; font-weight: 600; font-size: 12px;
  text-transform: uppercase; border-bottom: 1px solid #e5e7eb; padding: 6px 8px; }}
.sc-table td {{ border-bottom: 1px solid #f3f4f6; padding: 6px 8px; vertical-align: middle; }}
.sc-table td.num, .sc-table th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.sc-table a {{ color: {BLUE}; text-decoration: none; }}
.sc-table a:hover {{ text-decoration: underline; }}
.sc-share {{ display: flex; align-items: center; gap: 8px; color: {MUTED}; font-size: 12px; min-width: 150px; }}
.sc-track {{ flex: 1; }}
.sc-bar {{ background: {LIGHT_BLUE}; height: 8px; border-radius: 4px; min-width: 2px; }}
.sc-tabs.jupyter-widgets.jupyter-widget-tab > .lm-TabBar {{ border-bottom: 1px solid #e5e7eb; }}
.sc-tabs.jupyter-widgets.jupyter-widget-tab > .lm-TabBar .lm-TabBar-tab {{ background: transparent;
  border: none; border-bottom: 2px solid transparent; color: {MUTED}; font-weight: 600; flex: 0 0 auto;
  min-width: 0; padding: 0 14px; transform: none; }}
.sc-tabs.jupyter-widgets.jupyter-widget-tab > .lm-TabBar .lm-TabBar-tab.lm-mod-current {{ color: {BLUE};
  border-bottom-color: {BLUE}; }}
.sc-tabs.jupyter-widgets.jupyter-widget-tab > .lm-TabBar .lm-TabBar-tab.lm-mod-current::before {{
  display: none; }}
.sc-tabs.jupyter-widgets.jupyter-widget-tab > .widget-tab-contents {{ border: none; padding: 8px 0 0; }}
.sc-state {{ border-radius: 12px; padding: 18px 20px; font-size: 15px; }}
.sc-state code {{ background: rgba(0, 0, 0, .06); padding: 1px 5px; border-radius: 4px; }}
.empty-state {{ background: #eff6ff; border: 1px solid #bfdbfe; }}
.error-state {{ background: #fef2f2; border: 1px solid #fecaca; color: #991b1b; }}
.loading-state {{ color: {MUTED}; display: flex; align-items: center; gap: 10px; }}
.sc-spinner {{ width: 16px; height: 16px; border: 3px solid #dbeafe; border-top-color: {BLUE};
  border-radius: 50%; animation: sc-spin .8s linear infinite; }}
@keyframes sc-spin {{ to {{ transform: rotate(360deg); }} }}
</style>
"""

_URL_CREDENTIALS = re.compile(r"(\w[\w+.-]*://[^:/@\s]+:)[^@\s]+@")
_SECRET_ENV = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD)$")


def styled(widget: w.Widget, *classes: str) -> w.Widget:
    """Add CSS classes to ``widget`` and return it (use inside builders, not as a cell's last line)."""
    for name in classes:
        widget.add_class(name)
    return widget


def page_header(title: str, subtitle: str = "") -> w.HTML:
    sub = f"<p>{html.escape(subtitle)}</p>" if subtitle else ""
    return styled(w.HTML(f"{CSS}<div><h1>{html.escape(title)}</h1>{sub}</div>"), "sc-header")


def card(title: str, *body: w.Widget, css_class: str, width: str | None = None) -> w.VBox:
    """A white rounded box with an upper-case title; ``css_class`` is the stable test hook."""
    head = w.HTML(f'<div class="sc-card-title">{html.escape(title)}</div>')
    layout = w.Layout(width=width) if width else w.Layout()
    return styled(w.VBox([head, *body], layout=layout), "sc-card", css_class)


def grid(children: Sequence[w.Widget], min_width: str = "320px") -> w.GridBox:
    """Responsive columns: as many as fit, each at least ``min_width`` wide."""
    layout = w.Layout(grid_template_columns=f"repeat(auto-fit, minmax({min_width}, 1fr))",
                      grid_gap="16px", width="100%")
    return w.GridBox(list(children), layout=layout)


def loading_state(message: str = "Loading data…") -> w.HTML:
    body = f'<div class="sc-spinner"></div><span>{html.escape(message)}</span>'
    return styled(w.HTML(body), "sc-state", "loading-state")


def empty_state(message_html: str) -> w.HTML:
    """``message_html`` is trusted markup written by the caller, never data."""
    return styled(w.HTML(f"<div>{message_html}</div>"), "sc-state", "empty-state")


def error_state(exc: BaseException) -> w.HTML:
    text = html.escape(error_message(exc))
    return styled(w.HTML(f"<div><b>Could not load this page:</b> {text}</div>"), "sc-state", "error-state")


def error_message(exc: BaseException) -> str:
    """One line a viewer can act on: no traceback, no SQL, no credentials."""
    if isinstance(exc, SoundchartsError):
        text = str(exc)
    elif isinstance(exc, DBAPIError):
        text = f"database error: {exc.orig}"
    elif isinstance(exc, SQLAlchemyError):
        text = f"database error ({type(exc).__name__})"
    else:
        text = f"unexpected error ({type(exc).__name__}); the details are in the server log"
    line = (text.strip().splitlines() or [type(exc).__name__])[0]
    return _scrub(line)[:300]


def _scrub(text: str) -> str:
    text = _URL_CREDENTIALS.sub(r"\1***@", text)
    for name, value in os.environ.items():
        if _SECRET_ENV.search(name) and len(value) >= 4:
            text = text.replace(value, "***")
    return text


class Page:
    """A dashboard page: header, then a body that starts as the loading state."""

    def __init__(self, title: str, subtitle: str = ""):
        self.body = w.VBox([loading_state()], layout=w.Layout(width="100%"))
        self.widget = styled(w.VBox([page_header(title, subtitle), self.body]), "sc-page")

    def set(self, content: w.Widget) -> None:
        self.body.children = [content]

    @contextmanager
    def rendering(self) -> Iterator[Page]:
        """Run the block; any exception becomes the error state, its traceback goes to the server log."""
        try:
            yield self
        except Exception as exc:
            # The kernel's own stderr is the server's log; Voila drops stderr sent to the page.
            print(_scrub(traceback.format_exc()), file=sys.__stderr__, flush=True)
            self.set(error_state(exc))


def dashboard_link(notebook: str, **params: str) -> str:
    """Relative link to another dashboard, e.g. ``track.ipynb?uuid=...``."""
    return f"{notebook}?{urlencode(params)}"


@dataclass(frozen=True)
class Column:
    """One table column: header text and a function from a row to safe HTML."""

    header: str
    cell: Callable[[pd.Series], str]
    numeric: bool = False


RANK = Column("#", lambda r: str(r.name + 1), numeric=True)


def text(value) -> str:
    missing = value is None or (pd.api.types.is_scalar(value) and pd.isna(value))
    return "" if missing else html.escape(str(value))


def link(href: str, label) -> str:
    return f'<a href="{html.escape(href, quote=True)}">{text(label)}</a>'


def number(value) -> str:
    return f"{int(value):,}"


def html_table(rows: pd.DataFrame, columns: Sequence[Column]) -> str:
    """An HTML table; every cell goes through its column's function, which escapes data.

    Rows are numbered from 0 in order (``RANK`` shows that number + 1).
    """
    def cls(col: Column) -> str:
        return ' class="num"' if col.numeric else ""

    head = "".join(f"<th{cls(c)}>{html.escape(c.header)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td{cls(c)}>{c.cell(row)}</td>" for c in columns) + "</tr>"
        for _, row in rows.reset_index(drop=True).iterrows()
    )
    return f'<table class="sc-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
