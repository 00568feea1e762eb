"""The admin roster page and a track's notes in Chromium: add by UUID and from a track search, remove; add and
remove a note; each change checked in SQL and in the audit log under the admin's name."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ..conftest import cells, screenshot, sql
from .conftest import ACTOR

pytestmark = pytest.mark.browser


def _notice(page, state: str, text: str) -> None:
    expect(page.locator(f".action-notice .action-{state}")).to_contain_text(text, timeout=30_000)


def _followed(db_url: str) -> list[tuple]:
    return sql(db_url, "SELECT kind, uuid, added_by FROM watch_item ORDER BY id")


def _audited(db_url: str, action_like: str) -> list[tuple]:
    return sql(db_url, "SELECT actor, action, target, outcome FROM audit_event WHERE action LIKE ? ORDER BY id",
               action_like)


def test_roster_page_adds_and_removes(admin, db_url):
    first, second = sql(db_url, "SELECT uuid, name, credit_name FROM track WHERE credit_name != '' ORDER BY uuid "
                                "LIMIT 2 OFFSET 30")
    page = admin.open("roster.ipynb", ".roster-list")
    expect(page.locator(".sc-nav a.sc-current")).to_have_text("Roster")
    expect(page.locator(".roster-list")).to_contain_text("Nothing is followed yet")

    page.locator(".roster-uuid input").fill("not-a-uuid")
    page.locator("button.roster-add").click()
    _notice(page, "invalid", "not a SoundCharts UUID: 'not-a-uuid'")
    page.locator(".roster-uuid input").fill(first[0].upper())
    page.locator("button.roster-add").click()
    _notice(page, "success", f"added 1 to the roster: {first[1]} - {first[2]}")
    assert _followed(db_url) == [("track", first[0], ACTOR)]

    page.locator(".roster-search input").fill(second[1])
    page.locator(".roster-search input").press("Enter")
    expect(page.locator(".roster-found-count")).to_contain_text("found")
    page.locator(".roster-found select").select_option(label=f"{second[1]} — {second[2]}"[:90])
    page.locator("button.roster-add-found").click()
    _notice(page, "success", f"added 1 to the roster: {second[1]}")
    assert _followed(db_url) == [("track", first[0], ACTOR), ("track", second[0], ACTOR)]
    expect(page.locator(".roster-list tbody tr")).to_have_count(2)
    listed = cells(page, ".roster-list")
    assert sorted((r[0], r[2], r[3]) for r in listed) == sorted(
        [("track", first[0], "yes"), ("track", second[0], "yes")])
    assert {r[6] for r in listed} == {ACTOR}
    screenshot(page, "admin-roster")

    page.locator(".roster-select select").select_option(label=f"track: {first[1]} - {first[2]}"[:90])
    page.locator("button.roster-remove").click()
    _notice(page, "success", "removed 1 item from the roster")
    expect(page.locator(".roster-list tbody tr")).to_have_count(1)
    assert _followed(db_url) == [("track", second[0], ACTOR)]
    assert _audited(db_url, "roster.%") == [(ACTOR, "roster.add", f"track:{first[0]}", "success"),
                                            (ACTOR, "roster.add", f"track:{second[0]}", "success"),
                                            (ACTOR, "roster.remove", f"track:{first[0]}", "success")]


def test_notes_are_added_and_removed_on_the_track_page(admin, db_url):
    uuid, = sql(db_url, "SELECT uuid FROM track ORDER BY uuid LIMIT 1 OFFSET 31")[0]
    page = admin.open(f"track.ipynb?uuid={uuid}", ".track-notes-admin")
    expect(page.locator(".track-notes-admin")).to_contain_text("No notes yet")
    page.locator(".note-date input").fill("2026-03-05")
    page.locator(".note-kind input").fill("campaign")
    page.locator(".note-text input").fill("TV <campaign> starts")
    page.locator("button.note-add").click()
    _notice(page, "success", "note added on 2026-03-05 (campaign)")
    notes = sql(db_url, "SELECT n.id, n.date, n.kind, n.text, n.created_by FROM annotation n JOIN track t "
                        "ON t.id = n.track_id WHERE t.uuid = ?", uuid)
    assert [n[1:] for n in notes] == [("2026-03-05", "campaign", "TV <campaign> starts", ACTOR)]
    assert cells(page, ".track-notes-admin") == [["2026-03-05", "campaign", "TV <campaign> starts"]]
    screenshot(page, "admin-track-notes")
    page.locator("button.note-remove").click()
    _notice(page, "success", "note removed")
    assert sql(db_url, "SELECT COUNT(*) FROM annotation")[0][0] == 0
    assert _audited(db_url, "annotation.%") == [(ACTOR, "annotation.add", f"track:{uuid}", "success"),
                                                (ACTOR, "annotation.remove", f"track:{uuid}", "success")]
