"""A job's parameters: one small frozen record per job, whose fields are its notebook's parameters (plus what only
the command line sets), each checked with :mod:`soundcharts_lib.vocab` on the way in.

A value may come as the notebook, the command line or the admin area has it: text (``"7"``, ``"2026-01-01"``), a
number, a date, a list or comma-separated text for a field of several values, ``None`` or ``""`` for the default.
A bad one is a one-line :class:`~soundcharts_lib.vocab.BadValue` naming the parameter, before anything is opened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar

from soundcharts_lib import vocab
from soundcharts_lib.vocab import BadValue

FLAGS = {"true": True, "false": False, "1": True, "0": False}


def flag(text: str) -> bool:
    """``true``/``false`` (or 1/0), as papermill and ``run-job -p`` give them."""
    try:
        return FLAGS[text.lower()]
    except KeyError:
        raise BadValue(f"not true or false: {vocab.shown(text)}") from None


def param(check: Callable[[str], Any], default: Any = None, *, many: bool = False, required: bool = False):
    """A field checked by ``check`` (a vocab check: text in, value out); ``many``: a tuple of such values."""
    return field(default=() if many else default, metadata={"check": check, "many": many, "required": required})


def as_list(value) -> list[str]:
    """Several values given as a list, a tuple, comma-separated text, or nothing."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


@dataclass(frozen=True)
class Params:
    """The base of a job's parameters (see the module's docstring)."""

    JOB: ClassVar[str] = ""

    def __post_init__(self):
        for f in fields(self):
            check, value = f.metadata["check"], getattr(self, f.name)
            if f.metadata["many"]:
                value = tuple(vocab.checked(f.name, check, v) for v in as_list(value))
            else:
                value = vocab.checked(f.name, check, value if isinstance(value, str) else _text(value))
                if value is None and f.default is not MISSING:
                    value = f.default
            if f.metadata["required"] and value in (None, ()):
                raise BadValue(f"{f.name}: {self.JOB} needs one")
            object.__setattr__(self, f.name, value)

    @classmethod
    def of(cls, values: Params | Mapping[str, Any] | None = None):
        """``values`` as this job's parameters: these parameters themselves, or a mapping of some of them."""
        if isinstance(values, cls):
            return values
        values = dict(values or {})
        known = [f.name for f in fields(cls)]
        unknown = [key for key in values if key not in known]
        if unknown:
            raise BadValue(f"{cls.JOB} has no parameter {str(unknown[0])[:40]!r} (its parameters: {', '.join(known)})")
        return cls(**values)


def _text(value) -> str | None:
    """A value that is not text, as the text its check reads: a bool as true/false, a date as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
