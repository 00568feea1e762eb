"""Pages of one's own: which dashboards/*.ipynb are listed, and the documented template renders real data."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from soundcharts_lib.db import make_engine
from soundcharts_lib.ui import pages
from soundcharts_lib.warehouse import analytics
from soundcharts_lib.web.launch import DASHBOARDS

TEMPLATE = DASHBOARDS / "templates" / "my_page.ipynb"
PROBE = """
import json
body = page.body.children[0]
cards = list(getattr(body, "children", [body]))
def html(widget):
    return getattr(widget, "value", "") + "".join(html(k) for k in getattr(widget, "children", []))
print(json.dumps({"classes": [sorted(c._dom_classes) for c in cards], "html": [html(c) for c in cards]}))
"""


def notebook(path: Path, title: str | None = None) -> None:
    nb = nbformat.v4.new_notebook(metadata={"title": title} if title else {})
    nbformat.write(nb, path)


def test_custom_pages_lists_own_notebooks_only(tmp_path):
    for name in ("overview", "chart", "track", "platform"):
        notebook(tmp_path / f"{name}.ipynb")
    notebook(tmp_path / "label_watch.ipynb", title="  Label watch: A&R  ")
    notebook(tmp_path / "a_weekly-report.ipynb")
    (tmp_path / "broken.ipynb").write_text("{not json")
    notebook(tmp_path / ".hidden.ipynb")
    (tmp_path / "admin").mkdir()
    notebook(tmp_path / "admin" / "charts.ipynb")
    (tmp_path / "notes.txt").write_text("x")
    assert pages.custom_pages(tmp_path) == [
        {"file": "a_weekly-report.ipynb", "title": "A weekly report", "href": "a_weekly-report.ipynb"},
        {"file": "broken.ipynb", "title": "Broken", "href": "broken.ipynb"},
        {"file": "label_watch.ipynb", "title": "Label watch: A&R", "href": "label_watch.ipynb"}]
    assert pages.custom_pages(tmp_path / "admin") == [{"file": "charts.ipynb", "title": "Charts",
                                                       "href": "charts.ipynb"}]


def test_the_real_folder_never_lists_built_in_pages():
    listed = {p["file"] for p in pages.custom_pages()}
    assert not listed & {f"{name}.ipynb" for name in pages.BUILTIN}
    assert "my_page.ipynb" not in listed  # the template stays in templates/ until copied


def test_template_is_clean_and_titled():
    nb = json.loads(TEMPLATE.read_text())
    assert nb["metadata"]["title"] == "My page"
    assert all(not c.get("outputs") and not c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code")
    assert pages.page_title(TEMPLATE) == "My page"


def render(monkeypatch, tmp_path, db_url: str, query: str) -> dict:
    """Run the template as Voila would (the query string in QUERY_STRING) and read back what the page shows."""
    monkeypatch.setenv("SOUNDCHARTS_DB_URL", db_url)
    monkeypatch.setenv("SOUNDCHARTS_DB_READONLY", "1")
    monkeypatch.setenv("QUERY_STRING", query)
    nb = nbformat.read(TEMPLATE, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return json.loads(nb.cells[-1].outputs[0]["text"])


@pytest.mark.slow
def test_template_renders_the_warehouse(monkeypatch, tmp_path, synced_sqlite_url):
    shown = render(monkeypatch, tmp_path, synced_sqlite_url, "days=14")
    assert [c for c in shown["classes"] if "my-top-tracks" in c] and [c for c in shown["classes"] if "my-per-day" in c]
    engine = make_engine(synced_sqlite_url, read_only=True)
    top = analytics.top_tracks(engine, days=14, limit=20)
    engine.dispose()
    table = shown["html"][0]
    assert "Top tracks, last 14 days" in table and f'track.ipynb?uuid={top["uuid"].iloc[0]}' in table
    assert f'{top["appearances"].iloc[0]:,}' in table


@pytest.mark.slow
@pytest.mark.parametrize(("query", "state", "text"), [
    ("days=abc", "error-state", "days must be a whole number from 1 to 365"),
    ("roster=1", "sc-card", "No chart entries in these days."),  # an empty roster
])
def test_template_states(monkeypatch, tmp_path, synced_sqlite_url, query, state, text):
    shown = render(monkeypatch, tmp_path, synced_sqlite_url, query)
    assert state in shown["classes"][0] and text in shown["html"][0]
