"""What a dashboard's kernel knows of its widgets, for its snapshot (:mod:`.snapshots`).

- :func:`number_widgets`: model ids by creation order (``5c`` and 30 hex digits), so two kernels that build the same
  page from the same data give every widget the same id: a snapshot page's widgets are those of the live kernel that
  takes the page over when a visitor uses a control that needs Python (:mod:`.replay`).
- :func:`widget_states`: every model's state as the widget control comm's ``request_states`` answers it, which is
  what Voila's front end asks for first (:func:`reachable`: the models one widget needs).
- :func:`needs_python`: whether a model has Python behind it (an observer, a click or message handler of the page's
  code, a traitlets link): a visitor's change to it must reach a live kernel; the others (a tab, a hovered point) can
  stay in the browser.
- :func:`capture`: the two, printed as one JSON line, for the server that rendered the page;
  :func:`print_model_ids`: each model's id and kind, for the server that takes a snapshot page live.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import sys

ID_PREFIX = "5c"
ID_DIGITS = 30
LIBRARIES = frozenset({"ipywidgets", "bqplot", "traitlets", "traittypes", "bqscales"})
_counter = itertools.count(1)


def number_widgets() -> None:
    """From now on, a widget created without a model id gets the next one (``5c000…001``, ``5c000…002``, …)."""
    from ipywidgets import Widget

    def numbered(widget) -> None:
        if widget._model_id is None:
            widget._model_id = f"{ID_PREFIX}{next(_counter):0{ID_DIGITS}x}"

    Widget.on_widget_constructed(numbered)


def number_widgets_in_voila(env=os.environ) -> None:
    """:func:`number_widgets` in a kernel Voila started (it names its server in ``VOILA_SERVER_URL``); elsewhere (an
    analyst's notebook, whose outputs outlive a kernel restart) ids stay random."""
    if env.get("VOILA_SERVER_URL"):
        number_widgets()


def _widgets(widgets) -> dict:
    """``{model id: widget}`` of ``widgets`` (default: every live widget of this process)."""
    from ipywidgets.widgets.widget import _instances

    return dict(_instances) if widgets is None else {widget.model_id: widget for widget in widgets}


def widget_states(widgets=None) -> tuple[dict, list, list[bytes]]:
    """``(states, buffer_paths, buffers)`` of ``widgets`` (default: every live widget), as ipywidgets' control comm
    sends them."""
    from ipywidgets.widgets.widget import _remove_buffers

    full = {model_id: {"model_name": widget._model_name, "model_module": widget._model_module,
                       "model_module_version": widget._model_module_version,
                       "state": widget.get_state(drop_defaults=False)}
            for model_id, widget in _widgets(widgets).items()}
    return _remove_buffers(full)


def reachable(root) -> list:
    """``root`` and every widget its synced traits refer to, however deep (children, layouts, styles, bqplot marks,
    scales and axes): what the page's front end needs to draw it. Only the traits serialised as widget references
    are followed (``widget_serialization``): a map's topology or a figure's data hold none, and walking them cost
    more than the rest of the page's capture."""
    from ipywidgets import Widget
    from ipywidgets.widgets.widget import widget_serialization

    found: dict[int, Widget] = {}
    refers = widget_serialization["to_json"]

    def visit(value) -> None:
        if isinstance(value, Widget):
            if id(value) in found:
                return
            found[id(value)] = value
            for name in value.keys:
                if value.trait_metadata(name, "to_json") is refers:
                    visit(getattr(value, name))
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    visit(root)
    return list(found.values())


def _function(handler):
    """The function behind a handler: a traitlets event handler's, a bound method's, a partial's."""
    for attribute in ("func", "__func__"):
        inner = getattr(handler, attribute, None)
        if inner is not None and inner is not handler:
            return _function(inner)
    return handler


def _from_library(handler) -> bool:
    import traitlets

    if isinstance(getattr(handler, "__self__", None), (traitlets.link, traitlets.dlink)):
        return False  # keeps another widget in step, in Python
    module = getattr(_function(handler), "__module__", None) or ""
    return module.split(".")[0] in LIBRARIES


def needs_python(widget) -> bool:
    """Whether code outside the widget libraries observes ``widget`` or handles its clicks and messages."""
    from ipywidgets import CallbackDispatcher

    handlers = [handler for by_type in widget._trait_notifiers.values() for found in by_type.values()
                for handler in found]
    held = [*vars(widget).values(), *widget._trait_values.values()]  # a button's click handlers are a plain attribute
    handlers += [callback for value in held if isinstance(value, CallbackDispatcher) for callback in value.callbacks]
    return not all(_from_library(handler) for handler in handlers)


def live_models(widgets=None) -> list[str]:
    """The model ids of ``widgets`` (default: every live widget) with Python behind them (:func:`needs_python`)."""
    return sorted(model_id for model_id, widget in _widgets(widgets).items() if needs_python(widget))


def print_model_ids(out=None) -> None:
    """Print ``{model id: model name}`` of every live widget as JSON (the server compares a live page's with its
    snapshot's: the same page from the same data has the same widgets)."""
    from ipywidgets.widgets.widget import _instances

    print(json.dumps({model_id: widget._model_name for model_id, widget in list(_instances.items())}),
          file=out or sys.stdout, flush=True)


def capture(out=None, widgets=None) -> dict:
    """Print (to ``out``, default stdout) and return ``{"states", "buffer_paths", "buffers", "live"}`` of ``widgets``
    (default: every live widget), buffers in base64: what the server stores as the page's snapshot."""
    states, paths, buffers = widget_states(widgets)
    found = {"states": states, "buffer_paths": paths, "live": live_models(widgets),
             "buffers": [base64.b64encode(bytes(buffer)).decode("ascii") for buffer in buffers]}
    print(json.dumps(found, separators=(",", ":")), file=out or sys.stdout, flush=True)
    return found
