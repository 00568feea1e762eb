"""Dashboard pages built in this process exactly as Voila builds them: the notebook's code cells run in a fresh
namespace with the page's query string in ``QUERY_STRING`` and the database in ``SOUNDCHARTS_DB_URL`` (read-only
for the viewers' pages, as ``soundcharts serve`` opens it), then the widget tree is checked for error states, and a
viewer page's snapshot (what the server serves without a kernel) for the same, and for its controls that need
Python."""

from __future__ import annotations

import io
import json
import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import IPython.display
import ipywidgets as w

from soundcharts_lib.ui import common
from soundcharts_lib.web import widget_state

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
BAD_STATES = {"error-state", "notfound-state", "loading-state"}
BAD_TEXT = ("Could not load this page", "Not found</b>", "Traceback")
# Controls whose change runs the page's Python: from a snapshot page, using one takes the page live.
PYTHON_CONTROLS = {"date-picker", "prev-date", "next-date", "latest-date", "roster-toggle", "auto-refresh",
                   "prepare-download", "audience-start", "audience-end", "audience-limit", "audience-mode",
                   "platform-toggle", "labels-platform", "labels-chart", "labels-days", "compare-mode",
                   "compare-index"}
# What each page shows once it has its data (the browser tests wait for the same classes).
MAIN_CONTENT = {
    "overview.ipynb": {"top-tracks", "top-platforms", "rankings-per-day", "recent-alerts"},
    "platform.ipynb": {"platform-summary", "platform-charts", "platform-tracks"},
    "chart.ipynb": {"chart-summary", "chart-ranking"},
    "track.ipynb": {"track-summary", "track-kpis", "chart-history", "charting-now", "audience"},
    "labels.ipynb": {"labels-scope", "label-share", "top-labels"},
    "compare.ipynb": {"compare-summary", "compare-audience", "compare-charts", "compare-figures"},
    "artist.ipynb": {"artist-summary", "artist-kpis", "artist-tracks", "artist-positions", "artist-followers",
                     "artist-listeners"},
    "admin/charts.ipynb": {"chart-list"},
    "admin/chart.ipynb": {"ranking-list"},
    "admin/ranking.ipynb": {"entry-list"},
    "admin/track.ipynb": {"track-facts", "track-identifiers", "audience-status", "track-notes-admin"},
    "admin/tracks.ipynb": {"track-list"},
    "admin/roster.ipynb": {"roster-list"},
    "admin/runs.ipynb": {"run-list"},
    "admin/audit.ipynb": {"audit-log"},
}


@cache
def notebook_code(notebook: str):
    """The notebook's code cells, compiled in order (what Voila's kernel runs)."""
    cells = json.loads((DASHBOARDS / notebook).read_text(encoding="utf-8"))["cells"]
    return [compile("".join(c["source"]), f"{notebook}[{i}]", "exec")
            for i, c in enumerate(cells) if c["cell_type"] == "code"]


def walk(widget: w.Widget) -> Iterator[w.Widget]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


@dataclass
class Built:
    """One page: its address, its root widget, what went wrong (empty when it rendered) and the notebook's
    variables (its view, to drive its controls)."""

    notebook: str
    query: str
    widget: w.Widget | None = None
    problems: list[str] = field(default_factory=list)
    namespace: dict = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"{self.notebook}?{self.query}" if self.query else self.notebook


def _set_environment(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    """The process environment with ``values`` (None: unset) for the block, as it was afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    _set_environment(values)
    try:
        yield
    finally:
        _set_environment(saved)


@contextmanager
def _recording(problems: list[str]) -> Iterator[None]:
    """Every exception a page turns into its error or not-found state, with its traceback."""
    shown = common.error_state, common.not_found_state

    def record(state):
        def recorded(exc: BaseException):
            problems.append("".join(traceback.format_exception(exc)).strip())
            return state(exc)
        return recorded

    common.error_state, common.not_found_state = (record(s) for s in shown)
    try:
        yield
    finally:
        common.error_state, common.not_found_state = shown


def build(notebook: str, query: str, db_url: str) -> Built:
    """Run ``dashboards/<notebook>`` for ``?query`` on ``db_url`` as a fresh Voila kernel would, and check it."""
    built = Built(notebook, query)
    admin = notebook.startswith("admin/")
    env = {"QUERY_STRING": query, "SOUNDCHARTS_DB_URL": db_url, "SOUNDCHARTS_DB_READONLY": None if admin else "1"}
    shown: list = []
    namespace = built.namespace
    namespace["__name__"] = "__main__"
    common._roster_links = None  # module state a fresh kernel starts without
    display = IPython.display.display
    IPython.display.display = lambda *objs, **_: shown.extend(objs)
    try:
        with _environment(env), _recording(built.problems):
            for code in notebook_code(notebook):
                exec(code, namespace)  # noqa: S102  (the project's own notebook, as Voila runs it)
    except Exception as exc:  # a cell raised outside page.rendering(): Voila would show its own error
        built.problems.append("".join(traceback.format_exception(exc)).strip())
    finally:
        IPython.display.display = display
        engine = namespace.get("engine")
        if engine is not None:
            engine.dispose()
    pages = [o for o in shown if isinstance(o, w.Widget)]
    if not pages:
        built.problems.append("the notebook displayed no widget")
        return built
    built.widget = pages[0]
    built.problems.extend(_check(notebook, built.widget))
    if not admin:
        built.problems.extend(snapshot_problems(notebook, built.widget))
    return built


def shown_problems(root: w.Widget) -> list[str]:
    """The error, not-found or loading states and error messages shown under ``root``."""
    nodes = list(walk(root))
    found = {c for n in nodes for c in getattr(n, "_dom_classes", ())}
    markup = "".join(n.value for n in nodes if isinstance(n, w.HTML))
    return [f"shows the {c}" for c in sorted(found & BAD_STATES)] + [f"shows {t!r}" for t in BAD_TEXT if t in markup]


def snapshot_problems(notebook: str, root: w.Widget) -> list[str]:
    """What the page's snapshot lacks (the capture :mod:`soundcharts_lib.web.snapshots` stores: ``capture`` returns
    what it printed for the server, whose own reading the web tests check): its main content, or a control that
    needs Python not marked so (a visitor using it would not take the page live)."""
    found = widget_state.capture(io.StringIO(), widget_state.reachable(root))  # what it printed for the server
    classes = {model_id: set(model["state"].get("_dom_classes") or ()) for model_id, model in found["states"].items()}
    problems = [f"its snapshot shows the {c}" for c in sorted(set().union(*classes.values()) & BAD_STATES)]
    missing = MAIN_CONTENT[notebook] - set().union(*classes.values())
    if missing:
        problems.append(f"its snapshot lacks its main content {sorted(missing)}")
    unmarked = sorted({c for model_id, found_classes in classes.items() for c in found_classes & PYTHON_CONTROLS
                       if model_id not in found["live"]})
    if unmarked:
        problems.append(f"its snapshot does not mark {unmarked} as needing Python")
    return problems


def _check(notebook: str, root: w.Widget) -> list[str]:
    nodes = list(walk(root))
    found = {c for n in nodes for c in getattr(n, "_dom_classes", ())}
    problems = shown_problems(root)
    missing = MAIN_CONTENT[notebook] - found
    if missing:
        problems.append(f"lacks its main content {sorted(missing)}")
    return problems
