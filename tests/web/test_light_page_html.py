"""The light page made from a snapshot (``web/light_page.py``), the changes it may post, and the installer of its
browser files (``web/embed_assets.py``), without a server."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from html.parser import HTMLParser

import pytest

from soundcharts_lib.web import embed_assets
from soundcharts_lib.web.light_page import light_page, manager_state, pending_changes
from soundcharts_lib.web.snapshots import Snapshot

VIEW_ID = "5c" + "0" * 29 + "1"
OTHER_ID = "5c" + "0" * 29 + "2"
CONFIG = '<script id="jupyter-config-data" type="application/json">\n{"kernelId": "KID"}\n</script>'


def _output(data: dict, kind: str = "display_data") -> str:
    return ('<script type="application/vnd.voila.cell-output+json">\n'
            f'{json.dumps({"data": data, "metadata": {}, "output_type": kind})}\n</script>')


def _page(*outputs: str) -> str:
    return (f'<html><head></head><body><div id="rendered_cells">{CONFIG}\n<script src="/voila/static/voila.js">'
            f'</script>{"".join(outputs)}</div></body></html>')


def _snapshot(page: str, models: dict | None = None, buffers=(), buffer_paths=()) -> Snapshot:
    models = models or {VIEW_ID: {"model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls",
                                  "model_module_version": "2.0.0", "state": {"value": "</script><script>x()"}},
                        OTHER_ID: {"model_name": "ButtonModel", "model_module": "@jupyter-widgets/controls",
                                   "model_module_version": "2.0.0", "state": {"description": "go"}}}
    found = {"states": models, "buffer_paths": list(buffer_paths), "live": [OTHER_ID],
             "buffers": [base64.b64encode(b).decode() for b in buffers]}
    return Snapshot.from_render(("overview.ipynb", ""), page.replace("KID", "kid-1"), "kid-1", found, {}, ())


def _scripts(page: str) -> list[tuple[dict, str]]:
    """Every script element of ``page`` (its attributes, its text) as an HTML parser reads them."""
    found: list[tuple[dict, str]] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "script":
                found.append((dict(attrs), ""))

        def handle_data(self, data):
            if self.lasttag == "script" and found:
                found[-1] = (found[-1][0], found[-1][1] + data)

    Reader().feed(page)
    return found


def _widget_output(model_id: str = VIEW_ID) -> str:
    return _output({"application/vnd.jupyter.widget-view+json": {"model_id": model_id, "version_major": 2,
                                                                 "version_minor": 0}, "text/plain": "VBox()"})


def test_the_light_page_is_the_snapshot_page_without_voila_and_with_its_states():
    snap = _snapshot(_page(_widget_output()))
    page = light_page(snap, "/base/voila/static/", "/base/")
    assert "voila.js" not in page and "jupyter-config-data" not in page and "kid-1" not in page
    assert '<script src="/base/voila/static/require.js"></script>' in page
    assert page.index("require.js") < page.index("libembed-amd.js") < page.index("workbench-light.js")
    assert '<script type="application/vnd.jupyter.widget-view+json">{"model_id":"' + VIEW_ID in page
    # A state holding "</script>" cannot close the element it is embedded in: as a browser's parser reads the page.
    scripts = _scripts(page)
    assert [attrs.get("type", attrs.get("src")) for attrs, _ in scripts] == [
        "/base/voila/static/require.js", "/base/voila/static/libembed-amd.js",
        "application/vnd.jupyter.widget-view+json", "application/vnd.jupyter.widget-state+json",
        "application/json", "/base/voila/static/workbench-light.js"]
    state = json.loads(scripts[3][1])
    assert state["state"][VIEW_ID]["state"]["value"] == "</script><script>x()"
    settings = json.loads(scripts[4][1])
    assert settings == {"static": "/base/voila/static", "goLive": "/base/voila/api/snapshot-live",
                        "stamp": snap.stamp, "live": [OTHER_ID], "frontCookie": "soundcharts_front"}


@pytest.mark.parametrize("outputs", [
    (_output({"text/plain": "hello"}),),  # text beside the widgets
    (_widget_output(), _output({"text/plain": "Traceback"}, kind="error")),
    (_widget_output("5c" + "9" * 30),),  # a view of no model the snapshot holds
    ("",),  # no cell output at all is fine, but no Voila script either below
])
def test_a_snapshot_with_anything_but_its_widgets_has_no_light_page(outputs):
    page = _page(*outputs)
    if outputs == ("",):
        page = page.replace('<script src="/voila/static/voila.js"></script>', "")
    assert light_page(_snapshot(page), "/voila/static/", "/") is None


def test_buffers_are_embedded_in_base64_at_their_model_s_path():
    models = {VIEW_ID: {"model_name": "FigureModel", "model_module": "bqplot", "model_module_version": "^0.6",
                        "state": {"x": {"dtype": "float64", "shape": [2]}}}}
    raw = b"\x00\x01\x02\xff"
    snap = _snapshot(_page(_widget_output()), models, [raw], [[VIEW_ID, "state", "x", "value"]])
    embedded = manager_state(snap)["state"][VIEW_ID]
    assert embedded["buffers"] == [{"path": ["x", "value"], "encoding": "base64",
                                    "data": base64.b64encode(raw).decode()}]
    assert embedded["model_name"] == "FigureModel" and manager_state(snap)["version_major"] == 2


def test_the_changes_a_light_page_posts_are_checked_against_its_snapshot():
    snap = _snapshot(_page(_widget_output()))
    good = [{"model_id": VIEW_ID, "method": "update", "state": {"value": "x"}},
            {"model_id": OTHER_ID, "method": "custom", "content": {"event": "click"}, "extra": "dropped"}]
    assert pending_changes(json.loads(json.dumps({"changes": good})), snap) == [good[0], {
        "model_id": OTHER_ID, "method": "custom", "content": {"event": "click"}}]
    for bad in (b"[]", b'{"changes": []}', b'{"changes": [null]}', b'{"changes": "x"}',
                json.dumps({"changes": [{"model_id": "nope", "method": "update", "state": {}}]}).encode(),
                json.dumps({"changes": [{"model_id": VIEW_ID, "method": "update", "state": {"layout": 1}}]}).encode(),
                json.dumps({"changes": [{"model_id": VIEW_ID, "method": "update", "state": []}]}).encode(),
                json.dumps({"changes": [{"model_id": VIEW_ID, "method": "custom", "content": "click"}]}).encode(),
                json.dumps({"changes": [{"model_id": VIEW_ID, "method": "request_states"}]}).encode()):
        with pytest.raises(ValueError):
            pending_changes(json.loads(bad), snap)


def _tarball(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def test_a_tarball_is_used_only_when_it_matches_its_pinned_checksum():
    data = _tarball({"package/x.js": b"x"})
    assert embed_assets.checked(data, _integrity(data)) == data
    with pytest.raises(ValueError, match="checksum"):
        embed_assets.checked(data + b"!", _integrity(data))
    with pytest.raises(ValueError):
        embed_assets.checked(data, "sha1-" + _integrity(data)[7:])


def test_only_the_named_files_and_the_fonts_of_a_kept_folder_are_written_flat(tmp_path):
    data = _tarball({"package/dist/libembed-amd.js": b"a", "package/dist/embed.js": b"b",
                     "package/dist/font.woff2": b"c", "package/dist/sub/deep.woff2": b"d",
                     "package/dist/embed.js.map": b"e", "package/README.md": b"f"})
    package = embed_assets.Package("p.tgz", _integrity(data), ("package/dist/libembed-amd.js", "package/dist/"))
    assert sorted(embed_assets.extract(data, package, tmp_path)) == ["font.woff2", "libembed-amd.js"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["font.woff2", "libembed-amd.js"]


def test_the_installed_manager_loads_under_the_pages_policy():
    """``make install`` installed the files (the light pages' browser tests draw with them); the schema compilation
    the pages' Content-Security-Policy forbids is gone, and nothing else was changed."""
    assert embed_assets.installed()
    manager = (embed_assets.folder() / "libembed-amd.js").read_text(encoding="utf-8")
    (name, text, replacement), = embed_assets.PATCHES
    assert name == "libembed-amd.js" and text not in manager
    assert 'define("@jupyter-widgets/html-manager"' in manager and "window.__jupyter_widgets_assets_path__" in manager
