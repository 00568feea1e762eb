"""What a page's kernel tells the server for its snapshot: the same model ids in every kernel that builds the same
page, every model's state as the widget control comm sends it, and which models have Python behind them."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys

import bqplot as bq
import ipywidgets as w
import numpy as np
import traitlets

from soundcharts_lib.web.widget_state import ID_DIGITS, ID_PREFIX, capture, needs_python, reachable

BUILD = """
import json, sys
import ipywidgets as w
from soundcharts_lib.web.widget_state import number_widgets_in_voila
number_widgets_in_voila()
box = w.VBox([w.HTML("a"), w.Button(description="b"), w.DatePicker()])
print(json.dumps([box.model_id] + [child.model_id for child in box.children]))
"""


def _ids_in_a_new_process(env: dict) -> list[str]:
    out = subprocess.run([sys.executable, "-c", BUILD], env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_two_voila_kernels_building_the_same_page_give_its_widgets_the_same_ids(tmp_path):
    voila = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "VOILA_SERVER_URL": "/"}
    first, second = _ids_in_a_new_process(voila), _ids_in_a_new_process(voila)
    assert first == second and len(set(first)) == 4
    assert all(re.fullmatch(rf"{ID_PREFIX}[0-9a-f]{{{ID_DIGITS}}}", model_id) for model_id in first)
    elsewhere = _ids_in_a_new_process({"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})  # an analyst's notebook
    assert not set(elsewhere) & set(first)  # random ids (a random one may start with the prefix: 1 in 256)
    assert elsewhere != _ids_in_a_new_process({"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})


def test_a_model_needs_python_when_the_pages_code_observes_it_or_handles_its_clicks():
    plain = [w.HTML("x"), w.Button(description="b"), w.Tab(children=[w.HTML()]), w.ToggleButton(),
             w.Dropdown(options=[1, 2])]
    assert not any(needs_python(widget) for widget in plain)  # the libraries' own observers do not count
    observed, clicked, linked = w.DatePicker(), w.Button(), w.IntSlider()
    observed.observe(lambda change: None, "value")
    clicked.on_click(lambda button: None)
    traitlets.link((linked, "value"), (w.IntText(), "value"))
    assert needs_python(observed) and needs_python(clicked) and needs_python(linked)


def test_a_capture_holds_every_model_a_page_needs_with_its_arrays_as_buffers():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([30.0, 10.0, 20.0])
    lines = bq.Lines(x=x, y=y, scales={"x": bq.LinearScale(), "y": bq.LinearScale()})
    picker = w.DatePicker()
    picker.observe(lambda change: None, "value")
    root = w.VBox([w.HTML("<b>figure</b>"), bq.Figure(marks=[lines]), picker])
    out = io.StringIO()
    capture(out, reachable(root))
    found = json.loads(out.getvalue())  # one JSON line: what the server reads back from the kernel's stdout
    states = found["states"]
    assert set(states) == {widget.model_id for widget in reachable(root)} and root.model_id in states
    referred = set(re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(states)))
    assert referred <= set(states)  # no model refers to one the capture lacks
    arrays = {tuple(path): base64.b64decode(data) for path, data in zip(found["buffer_paths"], found["buffers"],
                                                                         strict=True)}
    assert arrays[(lines.model_id, "state", "x", "value")] == x.tobytes()
    assert arrays[(lines.model_id, "state", "y", "value")] == y.tobytes()
    assert states[lines.model_id]["model_name"] == "LinesModel"
    assert found["live"] == [picker.model_id]
