"""Argument types (the checks of :mod:`soundcharts_lib.vocab`) and a parser whose errors are one line and exit 2."""

from __future__ import annotations

import argparse
import sys

from soundcharts_lib import vocab


class OneLineParser(argparse.ArgumentParser):
    """``argparse`` that reports a bad argument as one line (no usage dump) and exits 2."""

    def error(self, message: str):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def argument_type(check):
    """``check`` (a :mod:`~soundcharts_lib.vocab` check) as an argparse type: its ``BadValue`` is the one-line error."""

    def parse(text: str):
        try:
            return check(text)
        except vocab.BadValue as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = check.__name__
    return parse


def whole_number(low: int, high: int):
    return argument_type(vocab.whole_number(low, high))


def number(low: float, high: float):
    return argument_type(vocab.number(low, high))


days, hours, seconds, limit, count, row_id, port = map(argument_type, (
    vocab.days, vocab.hours, vocab.seconds, vocab.limit, vocab.count, vocab.row_id, vocab.port))
iso_date, slug, platform, uuid, country, text, file_path = map(argument_type, (
    vocab.iso_date, vocab.slug, vocab.platform, vocab.uuid, vocab.country, vocab.text, vocab.file_path))
