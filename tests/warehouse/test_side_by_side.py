"""A page's reads side by side (warehouse.side_by_side): results by name, the first failure in the order given once
all have run; on SQLite, an in-memory database (a database per thread) included, one read after the other."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import insert

from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.models import Track
from soundcharts_lib.warehouse import viewer_pages
from soundcharts_lib.warehouse.analytics import UnknownEntity
from soundcharts_lib.warehouse.side_by_side import side_by_side

UUID = "00000000-0000-4000-8000-00000000a001"


def test_reads_come_back_by_name_on_threads_of_their_own_on_postgres_on_this_one_on_sqlite(engine):
    main = threading.get_ident()
    found = side_by_side(engine, b=lambda: ("b", threading.get_ident()), a=lambda: ("a", threading.get_ident()))
    assert list(found) == ["b", "a"] and [name for name, _ in found.values()] == ["b", "a"]
    threads = {thread for _, thread in found.values()}
    assert threads == {main} if engine.dialect.name == "sqlite" else main not in threads


def test_the_first_failing_read_in_the_order_given_raises_after_the_others_finished(engine):
    done = []

    def slow_ok():
        threading.Event().wait(0.2)
        done.append("slow")

    def fails(message):
        def read():
            raise ValueError(message)
        return read

    with pytest.raises(ValueError, match="first"):
        side_by_side(engine, one=fails("first"), two=slow_ok, three=fails("second"))
    assert done == ["slow"]


def test_an_in_memory_database_reads_one_after_the_other_and_its_track_page_works():
    engine = make_engine("sqlite://")
    try:
        upgrade(engine)
        assert side_by_side(engine, a=threading.get_ident)["a"] == threading.get_ident()  # on this thread
        with engine.begin() as conn:
            conn.execute(insert(Track), [{"uuid": UUID, "name": "In memory"}])
        page = viewer_pages.track_page(engine, UUID)
        assert page["track"]["name"] == "In memory" and page["charts"].empty and page["reach"]["popularity"] == {}
        with pytest.raises(UnknownEntity):
            viewer_pages.track_page(engine, UUID.replace("a001", "a002"))
    finally:
        engine.dispose()
