"""Shared dashboard pieces: page frame (theme, auto-refresh), loading/empty/not-found/error states, cards,
escaped HTML tables and their CSV / Excel download links."""

from __future__ import annotations

import base64
import gc
import html
import re
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import ipywidgets as w
import pandas as pd
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from soundcharts_lib.config import secret_named_values
from soundcharts_lib.errors import SoundchartsError
from soundcharts_lib.ui.params import BadQuery, Query
from soundcharts_lib.warehouse import exports
from soundcharts_lib.warehouse.analytics import UnknownEntity
from soundcharts_lib.web.widget_state import number_widgets_in_voila

number_widgets_in_voila()  # a page built twice from the same data has the same model ids (snapshot pages)

BLUE = "#2563eb"
LIGHT_BLUE = "#93c5fd"
INK = "#111827"
MUTED = "#6b7280"
GREEN = "#059669"
RED = "#dc2626"

CSS = f"""
<style>
.sc-page {{ --sc-ink: {INK}; --sc-muted: {MUTED}; --sc-card: #fff; --sc-line: #e5e7eb; --sc-row: #f3f4f6;
  --sc-blue: {BLUE}; --sc-soft: #eff6ff; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--sc-ink); max-width: 1200px; margin: 0 auto; padding: 8px 16px 32px; box-sizing: border-box; }}
.sc-page.sc-dark {{ --sc-ink: #e5e7eb; --sc-muted: #9ca3af; --sc-card: #111827; --sc-line: #374151;
  --sc-row: #1f2937; --sc-blue: #60a5fa; --sc-soft: #172554; --jp-layout-color0: #111827;
  --jp-layout-color1: #111827; --jp-layout-color2: #1f2937; --jp-ui-font-color1: #e5e7eb;
  --jp-widgets-color: #e5e7eb; --jp-widgets-label-color: #e5e7eb; --jp-widgets-input-color: #e5e7eb;
  --jp-widgets-input-background-color: #1f2937; --jp-widgets-input-border-color: #4b5563;
  --jp-content-font-color1: #e5e7eb; background: #030712; }}
body:has(.sc-dark), body:has(.sc-dark) #rendered_cells, body:has(.sc-dark) .jp-OutputArea-output {{
  background: #030712; }}
.sc-dark .bqplot .plotarea_background, .sc-dark .bqplot rect.background {{ fill: #111827 !important; }}
.sc-dark .bqplot text {{ fill: #cbd5e1 !important; }}
.sc-dark .bqplot .axis line, .sc-dark .bqplot .axis path {{ stroke: #4b5563 !important; }}
.sc-dark .jupyter-button {{ background: #1f2937; color: #e5e7eb; }}
.sc-dark .jupyter-button.mod-active {{ background: #1e3a8a; }}
.sc-top {{ flex-wrap: wrap; justify-content: space-between; align-items: flex-end; gap: 0 12px; }}
.sc-header h1 {{ font-size: 26px; font-weight: 700; margin: 8px 0 2px; }}
.sc-header p {{ color: var(--sc-muted); margin: 0 0 12px; font-size: 14px; }}
.sc-tools {{ align-items: center; gap: 8px; margin-bottom: 10px; }}
.sc-card {{ background: var(--sc-card); border: 1px solid var(--sc-line); border-radius: 12px;
  box-shadow: 0 1px 3px rgba(17, 24, 39, .06); padding: 14px 18px; margin: 0; overflow: hidden; min-width: 0; }}
.sc-card > .widget-html-content {{ min-width: 0; }}  /* a card drawn as one HTML widget: its tables scroll */
.sc-card-head {{ display: flex; flex-wrap: wrap; justify-content: space-between; align-items: baseline; gap: 6px; }}
.sc-card-title {{ font-size: 13px; font-weight: 600; color: var(--sc-muted); text-transform: uppercase;
  letter-spacing: .04em; }}
.sc-card h2 {{ font-size: 22px; margin: 4px 0; }}
.sc-kpi {{ font-size: 34px; font-weight: 700; line-height: 1.15; }}
.sc-kpis {{ display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px 16px; }}
.sc-sub {{ color: var(--sc-muted); font-size: 13px; }}
.sc-page dl.sc-facts {{ display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; font-size: 14px;
  margin: 6px 0; overflow: visible; width: auto; }}  /* over JupyterLab's floated dl */
.sc-page .sc-facts dt, .sc-page .sc-facts dd {{ display: block; float: none; width: auto; font-weight: 400; }}
.sc-facts dt {{ color: var(--sc-muted); }} .sc-facts dd {{ margin: 0; overflow-wrap: anywhere; min-width: 0; }}
.sc-pill {{ display: inline-block; border-radius: 999px; padding: 2px 10px; font-weight: 600;
  font-size: 13px; margin-right: 6px; white-space: nowrap; }}
.sc-up {{ background: #d1fae5; color: {GREEN}; }}
.sc-down {{ background: #fee2e2; color: {RED}; }}
.sc-flat {{ background: #f3f4f6; color: {MUTED}; }}
.sc-warn {{ background: #fef3c7; color: #92400e; }}
.sc-new {{ background: #dbeafe; color: #1d4ed8; }}
.sc-re {{ background: #ede9fe; color: #6d28d9; }}
.sc-arrow-up {{ color: {GREEN}; font-weight: 600; white-space: nowrap; }}
.sc-arrow-down {{ color: {RED}; font-weight: 600; white-space: nowrap; }}
.sc-meter {{ background: var(--sc-line); border-radius: 999px; height: 8px; margin-top: 8px; }}
.sc-meter > div {{ background: var(--sc-blue); border-radius: 999px; height: 8px; }}
.sc-scroll {{ overflow-x: auto; max-width: 100%; }}
.sc-tall .sc-scroll {{ max-height: 70vh; overflow-y: auto; }}
.sc-tall .sc-table th {{ position: sticky; top: 0; background: var(--sc-card); z-index: 1; }}
.sc-table {{ width: 100%; border-collapse: collapse; font-size: 14px; }}
.sc-table th {{ text-align: left; color: var(--sc-muted); font-weight: 600; font-size: 12px;
  text-transform: uppercase; border-bottom: 1px solid var(--sc-line); padding: 6px 8px; white-space: nowrap; }}
.sc-table td {{ border-bottom: 1px solid var(--sc-row); padding: 6px 8px; vertical-align: middle; }}
.sc-table td.num, .sc-table th.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
.sc-table td.nowrap {{ white-space: nowrap; }}
.sc-page a {{ color: var(--sc-blue); text-decoration: none; }}
.sc-page a:hover {{ text-decoration: underline; }}
.sc-legend {{ display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; color: var(--sc-muted); }}
.sc-key i {{ display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 5px; }}
.sc-downloads {{ font-size: 12px; white-space: nowrap; }}
.sc-downloads a {{ border: 1px solid var(--sc-line); border-radius: 6px; padding: 1px 7px; margin-left: 4px; }}
.sc-share {{ display: flex; align-items: center; gap: 8px; color: var(--sc-muted); font-size: 12px; min-width: 120px; }}
.sc-track {{ flex: 1; }}
.sc-bar {{ background: {LIGHT_BLUE}; height: 8px; border-radius: 4px; min-width: 2px; }}
.sc-tabs.jupyter-widgets.jupyter-widget-tab > .lm-TabBar {{ border-bottom: 1px solid var(--sc-line); }}
.sc-tabs.jupyter-widgets.jupyter-widget-tab > .lm-TabBar .lm-TabBar-tab {{ background: transparent;
  border: none; border-bottom: 2px solid transparent; color: var(--sc-muted); font-weight: 600; flex: 0 0 auto;
  min-width: 0; padding: 0 14px; transform: none; }}
.sc-tabs.jupyter-widgets.jupyter-widget-tab > .lm-TabBar .lm-TabBar-tab.lm-mod-current {{ color: var(--sc-blue);
  border-bottom-color: var(--sc-blue); }}
.sc-tabs.jupyter-widgets.jupyter-widget-tab > .lm-TabBar .lm-TabBar-tab.lm-mod-current::before {{
  display: none; }}
.sc-tabs.jupyter-widgets.jupyter-widget-tab > .widget-tab-contents {{ border: none; padding: 8px 0 0;
  background: transparent; }}
.sc-controls {{ flex-wrap: wrap; align-items: center; gap: 6px 12px; }}
.sc-state {{ border-radius: 12px; padding: 18px 20px; font-size: 15px; }}
.sc-state code {{ background: rgba(0, 0, 0, .06); padding: 1px 5px; border-radius: 4px; }}
.empty-state {{ background: var(--sc-soft); border: 1px solid #bfdbfe; }}
.notfound-state {{ background: #fffbeb; border: 1px solid #fde68a; color: #92400e; }}
.error-state {{ background: #fef2f2; border: 1px solid #fecaca; color: #991b1b; }}
.loading-state {{ color: var(--sc-muted); display: flex; align-items: center; gap: 10px; }}
.sc-spinner {{ width: 16px; height: 16px; border: 3px solid #dbeafe; border-top-color: {BLUE};
  border-radius: 50%; animation: sc-spin .8s linear infinite; }}
@keyframes sc-spin {{ to {{ transform: rotate(360deg); }} }}
@media (max-width: 600px) {{
  .sc-page {{ padding: 4px 6px 24px; }}
  .sc-header h1 {{ font-size: 21px; }}
  .sc-card {{ padding: 10px 10px; }}
  .sc-kpi {{ font-size: 26px; }}
  .sc-table {{ font-size: 13px; }}
  .sc-table th, .sc-table td {{ padding: 5px 4px; }}
}}
</style>
"""

_URL_CREDENTIALS = re.compile(r"(\w[\w+.-]*://[^:/@\s]+:)[^@\s]+@")
REFRESH_SECONDS = 60
EAGER_ROWS = 500  # tables up to this size carry their files in the page


def styled(widget: w.Widget, *classes: str) -> w.Widget:
    """Add CSS classes to ``widget`` and return it (use inside builders, not as a cell's last line)."""
    for name in classes:
        widget.add_class(name)
    return widget


def page_header(title: str, subtitle: str = "") -> w.HTML:
    sub = f"<p>{html.escape(subtitle)}</p>" if subtitle else ""
    return styled(w.HTML(f"{CSS}<div><h1>{html.escape(title)}</h1>{sub}</div>"), "sc-header")


def card(title: str, *body: w.Widget | str, css_class: str, width: str | None = None,
         downloads: Sequence[w.Widget] | str = ()) -> w.VBox:
    """A rounded box with an upper-case title (and download links on its right, see :func:`downloads`);
    ``css_class`` is the test hook. Markup (a string: ``downloads`` as links, ``body``'s leading items) goes in the
    title's HTML widget, one widget fewer for the browser to build."""
    markup = [card_head(title, downloads if isinstance(downloads, str) else "")]
    rest = list(body)
    if isinstance(downloads, str) or not downloads:
        while rest and isinstance(rest[0], str):
            markup.append(rest.pop(0))
    head = w.HTML("".join(markup))
    if downloads and not isinstance(downloads, str):
        head = styled(w.HBox([head, *downloads]), "sc-card-head")
    layout = w.Layout(width=width) if width else w.Layout()
    children = [head, *(w.HTML(item) if isinstance(item, str) else item for item in rest)]
    return styled(w.VBox(children, layout=layout), "sc-card", css_class)


def card_head(title: str, downloads: str = "") -> str:
    """A card's title as markup, with ``downloads`` (links, see :func:`download_links`) on its right."""
    head = f'<div class="sc-card-title">{html.escape(title)}</div>'
    return f'<div class="sc-card-head">{head}{downloads}</div>' if downloads else head


def html_card(title: str, *body: str, css_class: str, downloads: str = "") -> w.HTML:
    """:func:`card` as one HTML widget, for a card that holds only markup (``body`` and ``downloads`` are safe HTML):
    one widget instead of a box of several, each of which the browser builds and lays out."""
    return styled(w.HTML("".join([card_head(title, downloads), *body])), "sc-card", css_class)


def grid(children: Sequence[w.Widget], min_width: str = "320px") -> w.GridBox:
    """Responsive columns: as many as fit, each at least ``min_width`` wide (or the whole width, if narrower)."""
    layout = w.Layout(grid_template_columns=f"repeat(auto-fit, minmax(min({min_width}, 100%), 1fr))",
                      grid_gap="16px", width="100%")
    return w.GridBox(list(children), layout=layout)


def stack(children: Sequence[w.Widget]) -> w.VBox:
    """Sections one under the other with the page's spacing."""
    return w.VBox(list(children), layout=w.Layout(grid_gap="16px", width="100%"))


def loading_state(message: str = "Loading data…") -> w.HTML:
    body = f'<div class="sc-spinner"></div><span>{html.escape(message)}</span>'
    return styled(w.HTML(body), "sc-state", "loading-state")


def empty_state(message_html: str) -> w.HTML:
    """``message_html`` is trusted markup written by the caller, never data."""
    return styled(w.HTML(f"<div>{message_html}</div>"), "sc-state", "empty-state")


def not_found_state(exc: BaseException) -> w.HTML:
    text_ = html.escape(_scrub(str(exc)))
    hint = "Check the link, or sync the data first (<code>soundcharts sync-charts</code>)."
    return styled(w.HTML(f"<div><b>Not found</b>: {text_}. {hint}</div>"), "sc-state", "notfound-state")


def error_state(exc: BaseException) -> w.HTML:
    text_ = html.escape(error_message(exc))
    return styled(w.HTML(f"<div><b>Could not load this page:</b> {text_}</div>"), "sc-state", "error-state")


def error_message(exc: BaseException) -> str:
    """One line a viewer can act on: no traceback, no SQL, no credentials."""
    if isinstance(exc, (SoundchartsError, BadQuery)):
        text_ = str(exc)
    elif isinstance(exc, DBAPIError):
        text_ = f"database error: {exc.orig}"
    elif isinstance(exc, SQLAlchemyError):
        text_ = f"database error ({type(exc).__name__})"
    else:
        text_ = f"unexpected error ({type(exc).__name__}); the details are in the server log"
    line = (text_.strip().splitlines() or [type(exc).__name__])[0]
    return _scrub(line)[:300]


def _scrub(text_: str) -> str:
    text_ = _URL_CREDENTIALS.sub(r"\1***@", text_)
    for value in secret_named_values():
        if len(value) >= 4:
            text_ = text_.replace(value, "***")
    return text_


@contextmanager
def guarded(show: Callable[[w.Widget], None]) -> Iterator[None]:
    """Run the block; an unknown entity becomes the not-found state, a bad query value or any other exception the
    error state (an unexpected one's traceback goes to the server log), each passed to ``show``."""
    try:
        yield
    except UnknownEntity as exc:
        show(not_found_state(exc))
    except BadQuery as exc:
        show(error_state(exc))
    except Exception as exc:
        # The kernel's own stderr is the server's log; Voila drops stderr sent to the page.
        print(_scrub(traceback.format_exc()), file=sys.__stderr__, flush=True)
        show(error_state(exc))


class Page:
    """A dashboard page: header with an auto-refresh toggle (off), then a body that starts as the loading state.

    ``query`` (default: this kernel's query string) may set the theme (``?theme=dark`` adds ``sc-dark`` to the root)
    and the auto-refresh interval (``?refresh=SECONDS``, 2 to 3600; else ``refresh_seconds``). In a kernel Voila
    preheated, the page's imports ran before any request and the page waits here for its request.

    The kernel's objects so far (its modules: the kernel, widgets, pandas, SQLAlchemy) are frozen out of the cyclic
    garbage collector (``gc.freeze``): each full collection walked all of them, a 90 ms pause every few page reads
    (measured here: 11 reads of the compare page, two of them 166-178 ms, the others 62-87).
    """

    def __init__(self, title: str, subtitle: str = "", *, query: Query | None = None,
                 refresh_seconds: float = REFRESH_SECONDS):
        gc.freeze()
        theme, self.refresh_seconds, self.bad_query = "light", refresh_seconds, None
        try:
            query = query or Query.parse()
            theme, self.refresh_seconds = query.theme, query.integer("refresh", 2, 3600) or refresh_seconds
        except BadQuery as exc:
            self.bad_query = exc
        self.body = w.VBox([loading_state() if self.bad_query is None else error_state(self.bad_query)],
                           layout=w.Layout(width="100%"))
        self.updated = styled(w.HTML(""), "sc-sub", "sc-updated")
        self.auto = styled(w.ToggleButton(value=False, description="Auto-refresh",
                                          tooltip=f"Re-read the data every {self.refresh_seconds:g} s"),
                           "auto-refresh")
        self.auto.observe(self._toggled, "value")
        tools = styled(w.HBox([self.updated, self.auto]), "sc-tools")
        header = styled(w.HBox([page_header(title, subtitle), tools], layout=w.Layout(width="100%")), "sc-top")
        self.widget = styled(w.VBox([header, self.body]), "sc-page")
        self._load: Callable[[], w.Widget] | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        if theme == "dark":
            self.widget.add_class("sc-dark")

    def set(self, content: w.Widget) -> None:
        self.body.children = [content]

    @contextmanager
    def rendering(self) -> Iterator[Page]:
        """Run the block; an exception becomes the not-found or error state (see :func:`guarded`)."""
        with guarded(self.set):
            yield self

    def show(self, load: Callable[[], w.Widget]) -> None:
        """Show ``load()`` (it reads the data and builds the body) after the loading state; auto-refresh calls it
        again. A bad ``theme`` / ``refresh`` query value keeps its error state instead."""
        if self.bad_query is not None:
            return
        self._load = load
        self.set(loading_state())
        self.refresh()

    def refresh(self) -> None:
        """Re-read and rebuild the body in place (the current body stays until the new one is ready)."""
        if self._load is None:
            return
        with self._lock, self.rendering():
            self.set(self._load())
            self.updated.value = f"Updated {datetime.now(UTC):%H:%M:%S} UTC"

    def _toggled(self, change: dict) -> None:
        if change["new"]:
            self._schedule()
        elif self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self) -> None:
        self._timer = threading.Timer(self.refresh_seconds, self._tick)
        self._timer.daemon = True
        self._timer.start()

    def _tick(self) -> None:
        if not self.auto.value:
            return
        self.refresh()
        if self.auto.value:
            self._schedule()


_roster_links: bool | None = None  # the page's "my roster" toggle, once it has one (else its ?roster=)


def keep_roster_in_links(on: bool) -> None:
    """Links built from now on (:func:`dashboard_link`) carry ``roster=1`` when ``on``: the roster toggle's state."""
    global _roster_links
    _roster_links = on


def dashboard_link(notebook: str, **params) -> str:
    """Relative link to another dashboard, e.g. ``track.ipynb?uuid=...``; a dark page links to dark pages, and a
    page kept to the roster (its toggle on, or ``?roster=1``) links to pages kept to the roster."""
    values = {k: str(v) for k, v in params.items() if v is not None}
    roster = bool(_roster_links)
    try:
        query = Query.parse()
        if query.theme == "dark":
            values["theme"] = "dark"
        roster = query.flag("roster") if _roster_links is None else roster
    except BadQuery:
        pass
    if roster:
        values["roster"] = "1"
    return f"{notebook}?{urlencode(values)}" if values else notebook


def downloads(table: str, frame: pd.DataFrame | Callable[[], pd.DataFrame], label: str = "", *,
              rows: int | None = None) -> w.Widget:
    """The table's CSV and Excel links; above ``EAGER_ROWS`` rows a button prepares them on demand (an Excel file
    of thousands of rows takes seconds to write, and would slow every page load). ``frame`` may also be a function
    that reads the table when the button is pressed (``rows``: the count the button shows)."""
    if not callable(frame) and len(frame) <= EAGER_ROWS:
        return w.HTML(download_links(table, frame, label))
    count = rows if callable(frame) else len(frame)
    ready = w.HTML()
    button = styled(w.Button(description=f"{label or 'Download'}: prepare CSV / Excel ({count:,} rows)",
                             layout=w.Layout(width="auto")), "prepare-download")

    def prepare(_) -> None:
        button.layout.display = "none"
        ready.value = download_links(table, frame() if callable(frame) else frame, label)

    button.on_click(prepare)
    return styled(w.HBox([button, ready]), "sc-downloads")


def download_links(table: str, frame: pd.DataFrame, label: str = "") -> str:
    """CSV and Excel links (data: URIs) holding exactly what ``soundcharts export TABLE`` writes for ``frame``;
    ``label`` names the table when a card has several."""
    links = [f'<span class="sc-sub">{html.escape(label)}</span>'] if label else []
    for fmt, label in (("csv", "CSV"), ("xlsx", "Excel")):
        body = base64.b64encode(exports.render(frame, fmt, table)).decode("ascii")
        links.append(f'<a class="download-{fmt}" data-table="{html.escape(table)}" download="{table}.{fmt}" '
                     f'href="data:{exports.MEDIA_TYPES[fmt]};base64,{body}">{label}</a>')
    return f'<span class="sc-downloads">{"".join(links)}</span>'


@dataclass(frozen=True)
class Column:
    """One table column: header text and a function from a row to safe HTML."""

    header: str
    cell: Callable[[pd.Series], str]
    numeric: bool = False
    nowrap: bool = False  # dates and other short values that must not break across lines


RANK = Column("#", lambda r: str(r.name + 1), numeric=True)


def missing(value) -> bool:
    """None, NaN or NA: what pandas gives for a NULL."""
    return value is None or (pd.api.types.is_scalar(value) and pd.isna(value))


def first(*values):
    """The first value that is neither missing nor empty (the last one otherwise)."""
    return next((v for v in values if not missing(v) and v != ""), values[-1])


def text(value, limit: int | None = None) -> str:
    """``value`` as escaped text (at most ``limit`` characters); empty when missing."""
    return "" if missing(value) else html.escape(str(value)[:limit])


def link(href: str | None, label, limit: int | None = None) -> str:
    """``label`` linking to ``href``; the label alone when there is no address (a NULL or empty one: the API may
    send an identifier without its ``url``). With ``limit``, a longer label is cut to that many characters ending
    in "…", the whole of it in the tooltip."""
    shown, title = text(label), ""
    if limit is not None and not missing(label) and len(str(label)) > limit:
        shown = text(str(label)[:limit - 1].rstrip() + "…")
        title = f' title="{html.escape(str(label), quote=True)}"'
    if missing(href) or href == "":
        return f"<span{title}>{shown}</span>" if title else shown
    return f'<a href="{html.escape(str(href), quote=True)}"{title}>{shown}</a>'


def number(value) -> str:
    return "" if missing(value) else f"{int(value):,}"


def html_table(rows: pd.DataFrame, columns: Sequence[Column]) -> str:
    """An HTML table (scrolling sideways when narrow); every cell goes through its column's function, which
    escapes data.

    Rows are numbered from 0 in order (``RANK`` shows that number + 1).
    """
    def cls(col: Column) -> str:
        return ' class="num"' if col.numeric else ' class="nowrap"' if col.nowrap else ""

    head = "".join(f"<th{cls(c)}>{html.escape(c.header)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td{cls(c)}>{c.cell(row)}</td>" for c in columns) + "</tr>"
        for _, row in rows.reset_index(drop=True).iterrows()
    )
    return (f'<div class="sc-scroll"><table class="sc-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table></div>')


def table_card(title: str, table: str, frame: pd.DataFrame, columns: Sequence[Column], *, css_class: str,
               empty: str, single: bool = False) -> w.Widget:
    """A card holding ``frame`` as a table with its download links, or the sentence ``empty`` when it has no rows.
    ``single``: one HTML widget (see :func:`html_card`) unless its files are prepared on demand; else a box."""
    if single and len(frame) <= EAGER_ROWS:
        if frame.empty:
            return html_card(title, nothing_html(empty), css_class=css_class)
        return html_card(title, html_table(frame, columns), css_class=css_class,
                         downloads=download_links(table, frame))
    if frame.empty:
        return card(title, nothing(empty), css_class=css_class)
    return card(title, w.HTML(html_table(frame, columns)), css_class=css_class,
                downloads=[downloads(table, frame)])


def nothing_html(message: str) -> str:
    return f'<div class="sc-sub">{html.escape(message)}</div>'


def nothing(message: str) -> w.HTML:
    return w.HTML(nothing_html(message))


def pill(label: str, tone: str) -> str:
    """A rounded label; ``tone`` is one of up, down, flat, warn, new, re."""
    return f'<span class="sc-pill sc-{tone}">{html.escape(label)}</span>'


def day(value) -> str:
    """A date as YYYY-MM-DD (empty when missing)."""
    return "" if missing(value) else html.escape(pd.Timestamp(value).strftime("%Y-%m-%d"))


def moment(value) -> str:
    """A naive-UTC timestamp as YYYY-MM-DD HH:MM UTC (empty when missing)."""
    return "" if missing(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M UTC")
