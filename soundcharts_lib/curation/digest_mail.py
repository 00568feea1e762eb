"""A roster digest rendered: the HTML mail (its figure a CID attachment), its plain-text part, and the
Slack-compatible webhook body (``text`` and ``blocks``), each with links to the dashboards' pages.

The links are absolute, under the public address of the dashboards (``SOUNDCHARTS_PUBLIC_URL``): a track's page, a
chart's page on the day of the change, an artist's page, the overview kept to the roster. Everything shown is
escaped; nothing is fetched when the mail is opened (the figure travels inside it).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlencode

import pandas as pd

from soundcharts_lib.curation.digest_figure import COLOURS, growth_bars
from soundcharts_lib.warehouse.digest_data import DigestData

FIGURE_CID = "growth@soundcharts-digest"
SHOWN = 50  # rows of the entries and exits tables before "and N more"
SLACK_ROWS = 5  # rows of each list in the webhook's blocks
SLACK_TEXT = 3000  # characters of a block's text
FONT = "font-family:Helvetica,Arial,sans-serif;color:#333"
CELL = "padding:4px 8px;border-bottom:1px solid #eee;text-align:left"


@dataclass(frozen=True)
class Rendered:
    """A digest as sent: ``subject``, ``html`` (the figure as ``cid:``:data:`FIGURE_CID`), ``text`` (the plain
    part), ``blocks`` (the webhook's Slack blocks) and ``figure`` (PNG bytes, None without one)."""

    subject: str
    html: str
    text: str
    blocks: list
    figure: bytes | None

    def summary(self, counts: dict) -> dict:
        """What the digest's row keeps besides its subject and HTML, so a later run re-sends the same."""
        figure = base64.b64encode(self.figure).decode() if self.figure else None
        return {"counts": counts, "text": self.text, "blocks": self.blocks, "figure": figure}

    @classmethod
    def stored(cls, subject: str, page: str, summary: dict) -> Rendered:
        """A digest as its row keeps it."""
        figure = summary.get("figure")
        return cls(subject, page, summary["text"], summary["blocks"], base64.b64decode(figure) if figure else None)


class Links:
    """The dashboards' pages under ``base`` (the public URL)."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def page(self, notebook: str, **query) -> str:
        query = {k: v for k, v in query.items() if v is not None}
        return f"{self.base}/voila/render/{notebook}" + (f"?{urlencode(query)}" if query else "")

    def track(self, uuid: str) -> str:
        return self.page("track.ipynb", uuid=uuid)

    def chart(self, slug: str, day: date | None = None) -> str:
        return self.page("chart.ipynb", slug=slug, date=day.isoformat() if day else None)

    def artist(self, uuid: str) -> str:
        return self.page("artist.ipynb", uuid=uuid)

    def overview(self) -> str:
        return self.page("overview.ipynb", roster=1)


def period_text(start: date, end: date) -> str:
    return start.isoformat() if start == end else f"{start.isoformat()} to {end.isoformat()}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def headline(data: DigestData) -> str:
    """The counts in one line: entries, exits, moves up, alerts."""
    return ", ".join([_plural(len(data.entries), "chart entry", "chart entries"), _plural(len(data.exits), "exit"),
                      _plural(len(data.moves), "move up", "moves up"), _plural(len(data.alerts), "alert")])


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, the page it links to, the colour of its swatch (the figure's bar)."""

    text: str
    url: str | None = None
    colour: str | None = None


@dataclass(frozen=True)
class Section:
    """A list of the digest, drawn as a table (HTML), lines (plain text) or a block (webhook)."""

    title: str
    head: tuple[str, ...]
    rows: list[list[Cell]]
    empty: str
    total: int  # rows before :data:`SHOWN` cut them


def _who(row) -> str:
    artist = row.get("artist")
    return f"{row['name']} by {artist}" if isinstance(artist, str) and artist else str(row["name"])


def _num(value) -> str:
    return "" if value is None or pd.isna(value) else f"{int(value):,}"


def _signed(value) -> str:
    return ("+" if value >= 0 else "") + _num(value)


def _growth(frame: pd.DataFrame, subject, colours: bool) -> list[list[Cell]]:
    return [[Cell(str(i + 1), colour=COLOURS[i] if colours and i < len(COLOURS) else None), subject(row),
             Cell(row["platform"]), Cell(_signed(row["units"])), Cell(f"{row['pct']:+.2f}%"),
             Cell(f"{_num(row['from_value'])} → {_num(row['to_value'])}")]
            for i, row in enumerate(frame.to_dict("records"))]


def _sections(data: DigestData, links: Links, figure: bool) -> list[Section]:
    def track(row) -> Cell:
        return Cell(_who(row), links.track(row["uuid"]))

    def chart(row) -> Cell:
        return Cell(row["chart_name"], links.chart(row["chart"], row["date"]))

    def about(row) -> Cell:
        if isinstance(row["track_uuid"], str):
            return Cell("track", links.track(row["track_uuid"]))
        return Cell("artist", links.artist(row["artist_uuid"])) if isinstance(row["artist_uuid"], str) else Cell("")

    entries, exits = data.entries.head(SHOWN).to_dict("records"), data.exits.head(SHOWN).to_dict("records")
    sections = [
        Section("Audience growth leaders", ("#", "track", "platform", "growth", "%", "audience"),
                _growth(data.audience, track, figure), "No audience stored for the period.", len(data.audience)),
        Section("New on a chart", ("day", "chart", "position", "", "track"), [
            [Cell(r["date"].isoformat()), chart(r), Cell(f"#{r['position']}"), Cell(r["status"]), track(r)]
            for r in entries], "No new chart entry.", len(data.entries)),
        Section("Off a chart", ("day", "chart", "was", "track"), [
            [Cell(r["date"].isoformat()), chart(r), Cell(f"#{_num(r['previous_position'])}"), track(r)]
            for r in exits], "No track left a chart.", len(data.exits)),
        Section("Best moves", ("day", "chart", "position", "move", "track"), [
            [Cell(r["date"].isoformat()), chart(r), Cell(f"#{r['position']} (was #{_num(r['previous_position'])})"),
             Cell(_signed(r["movement"])), track(r)] for r in data.moves.to_dict("records")], "No move up.",
            len(data.moves)),
        Section("Alerts", ("fired (UTC)", "alert", "", "about"), [
            [Cell(r["fired_at"].strftime("%Y-%m-%d %H:%M")), Cell(r["subject"]), Cell(r["message"]), about(r)]
            for r in data.alerts.to_dict("records")], "No alert about the roster.", len(data.alerts)),
    ]
    if len(data.followers):
        sections.insert(4, Section(
            "Artists' follower growth leaders", ("#", "artist", "platform", "growth", "%", "followers"),
            _growth(data.followers, lambda row: Cell(row["name"], links.artist(row["uuid"])), False), "",
            len(data.followers)))
    return sections


def _anchor(cell: Cell) -> str:
    text = html.escape(cell.text)
    if cell.url:
        text = f'<a href="{html.escape(cell.url)}" style="color:#1f5fa8">{text}</a>'
    if cell.colour:
        text = f'<span style="display:inline-block;width:10px;height:10px;background:{cell.colour}"></span> {text}'
    return text


def _html_section(section: Section, links: Links, figure: str = "") -> str:
    out = f'<h3 style="margin:20px 0 6px">{html.escape(section.title)}</h3>{figure}'
    if not section.rows:
        return out + f'<p style="color:#777">{html.escape(section.empty)}</p>'
    head = "".join(f'<th style="{CELL};font-weight:600">{html.escape(h)}</th>' for h in section.head)
    body = "".join("<tr>" + "".join(f'<td style="{CELL}{"" if c.url else ";white-space:nowrap"}">{_anchor(c)}</td>'
                                    for c in row) + "</tr>" for row in section.rows)
    out += f'<table style="border-collapse:collapse;font-size:14px"><tr>{head}</tr>{body}</table>'
    extra = section.total - len(section.rows)
    return out + (f"<p>and {extra:,} more: {_anchor(Cell('the overview', links.overview()))}</p>" if extra > 0 else "")


def _html(data: DigestData, links: Links, subject: str, sections: list[Section], figure: bool) -> str:
    parts = [f'<h2 style="margin:0 0 4px">{html.escape(subject)}</h2>',
             f'<p style="color:#555;margin:0 0 16px">{_plural(data.tracks, "track")} and '
             f'{_plural(data.artists, "artist")} followed · {html.escape(headline(data))} · '
             f'{_anchor(Cell("the overview, roster only", links.overview()))}</p>']
    if not data.tracks and not data.artists:
        parts.append("<p>Nothing is followed yet: add tracks or artists with <code>soundcharts roster add</code> "
                     "or on the admin roster page.</p>")
    image = (f'<img src="cid:{FIGURE_CID}" alt="Audience growth of the leaders, in %, numbered as in the table '
             f'below" width="560" style="display:block;margin:0 0 8px">') if figure else ""
    parts += [_html_section(section, links, image if i == 0 else "") for i, section in enumerate(sections)]
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(subject)}</title></head>'
            f'<body style="{FONT};max-width:760px">{"".join(parts)}'
            f'<p style="color:#999;font-size:12px;margin-top:24px">soundcharts-workbench roster digest</p>'
            f"</body></html>")


def _line(row: list[Cell]) -> str:
    """A row as plain text: its texts, then the first page it links to."""
    url = next((c.url for c in row if c.url), None)
    return " · ".join(c.text for c in row if c.text) + (f"  {url}" if url else "")


def _text(data: DigestData, links: Links, subject: str, sections: list[Section]) -> str:
    lines = [subject, f"{_plural(data.tracks, 'track')} and {_plural(data.artists, 'artist')} followed; "
                      f"{headline(data)}", f"The overview, roster only: {links.overview()}"]
    for section in sections:
        lines += ["", section.title, *(f"  {_line(row)}" for row in section.rows)]
        lines += [f"  and {section.total - len(section.rows):,} more"] if section.total > len(section.rows) else []
        lines += [] if section.rows else [f"  {section.empty}"]
    return "\n".join(lines) + "\n"


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack(cell: Cell) -> str:
    return f"<{cell.url}|{_mrkdwn(cell.text)}>" if cell.url else _mrkdwn(cell.text)


def _blocks(data: DigestData, links: Links, subject: str, sections: list[Section]) -> list[dict]:
    """Slack blocks: a header, the counts, then each list's first :data:`SLACK_ROWS` rows."""
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
              {"type": "section", "text": {"type": "mrkdwn", "text": f"{_mrkdwn(headline(data))} · "
                                           f"{_slack(Cell('the overview, roster only', links.overview()))}"}}]
    for section in sections:
        rows = [" · ".join(_slack(c) for c in row if c.text) for row in section.rows[:SLACK_ROWS]]
        more = section.total - min(len(section.rows), SLACK_ROWS)
        text = "\n".join([f"*{_mrkdwn(section.title)}*", *(rows or [_mrkdwn(section.empty)])]
                         + ([f"and {more:,} more"] if more > 0 else []))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:SLACK_TEXT]}})
    return blocks


def render(data: DigestData, base_url: str) -> Rendered:
    """The digest of ``data`` with links under ``base_url``."""
    links = Links(base_url)
    subject = f"Roster digest {period_text(data.start, data.end)}: {headline(data)}"
    figure = growth_bars(data.audience["pct"].tolist())
    sections = _sections(data, links, figure is not None)
    return Rendered(subject, _html(data, links, subject, sections, figure is not None),
                    _text(data, links, subject, sections), _blocks(data, links, subject, sections), figure)


def mail(rendered: Rendered, sender: str, recipient: str) -> EmailMessage:
    """The e-mail: plain text, and HTML with the figure inline (``multipart/related``, ``Content-ID``)."""
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = rendered.subject, sender, recipient
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    if rendered.figure:
        message.get_payload()[1].add_related(rendered.figure, "image", "png", cid=f"<{FIGURE_CID}>",
                                             filename="growth.png")
    return message


def standalone(rendered: Rendered) -> str:
    """The HTML with its figure inside it (a ``data:`` URI): what ``--dry-run`` writes, for a browser."""
    if not rendered.figure:
        return rendered.html
    uri = "data:image/png;base64," + base64.b64encode(rendered.figure).decode()
    return rendered.html.replace(f"cid:{FIGURE_CID}", uri)


def webhook_body(rendered: Rendered) -> dict:
    """The Slack-compatible JSON: ``text`` (the subject: notifications, and receivers without blocks) and
    ``blocks``."""
    return {"text": rendered.subject, "blocks": rendered.blocks}
