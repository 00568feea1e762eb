"""Dashboard pages of one's own: every ``dashboards/*.ipynb`` that is not a built-in page.

``soundcharts serve`` serves the whole ``dashboards/`` folder, so a notebook copied there (start from
``dashboards/templates/my_page.ipynb``) is a page; the overview links the ones :func:`custom_pages` lists. A page's
title is its notebook's ``metadata.title``, else its file name.
"""

from __future__ import annotations

import json
from pathlib import Path

from soundcharts_lib.web.launch import DASHBOARDS

BUILTIN = frozenset({"overview", "platform", "chart", "track", "labels", "compare", "artist"})


def page_title(path: Path) -> str:
    """``metadata.title`` of the notebook at ``path``, else its name ("my_page" -> "My page")."""
    try:
        title = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("title")
    except (OSError, ValueError, AttributeError):
        title = None
    if isinstance(title, str) and title.strip():
        return title.strip()
    return path.stem.replace("_", " ").replace("-", " ").strip().capitalize() or path.stem


def custom_pages(folder: Path | str = DASHBOARDS) -> list[dict]:
    """``[{"file", "title", "href"}]`` for each page of one's own in ``folder`` (not in sub-folders, not a built-in
    page, not a hidden or checkpoint file), by title; ``href`` is relative to the overview."""
    pages = [{"file": p.name, "title": page_title(p), "href": p.name}
             for p in Path(folder).glob("*.ipynb") if p.stem not in BUILTIN and not p.name.startswith(".")]
    return sorted(pages, key=lambda page: (page["title"].lower(), page["file"]))
