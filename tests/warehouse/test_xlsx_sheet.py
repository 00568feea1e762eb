"""The Excel writer behind every download link and ``soundcharts export --format xlsx``: what openpyxl and pandas
(the readers a team opens these files with, beside Excel) read back equals the frame written."""

from __future__ import annotations

import io
import warnings
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundcharts_lib.warehouse import xlsx_sheet


def read(body: bytes) -> openpyxl.worksheet.worksheet.Worksheet:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # openpyxl warns about parts it does not understand
        return openpyxl.load_workbook(io.BytesIO(body)).active


def values(body: bytes) -> list[tuple]:
    return list(read(body).iter_rows(values_only=True))


def test_each_kind_of_value_reads_back_as_written():
    frame = pd.DataFrame({
        "day": [date(2026, 1, 2), None, date(1999, 12, 31)],
        "at": [pd.Timestamp("2026-01-02 03:04:05"), pd.NaT, datetime(2026, 6, 1, 12, 0, tzinfo=UTC)],
        "n": pd.array([1, None, -(2 ** 40)], dtype="Int64"),
        "x": [1.5, float("nan"), float("-inf")],
        "flag": [True, False, None],
        "cost": [Decimal("2.25"), None, np.float32(0.5)],
        "name": ['a,"b" <i>&amp;</i>', "  spaced  ", ""],
        "stamp": np.array(["2026-03-04T05:06:07", "NaT", "2026-03-05"], dtype="datetime64[s]"),
    }).astype({"at": object})
    sheet = read(xlsx_sheet.workbook(frame, "ranking"))
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(frame.columns)
    assert all(c.font.b for c in sheet[1])  # the header row is bold, as pandas wrote it
    assert rows[1] == (datetime(2026, 1, 2), datetime(2026, 1, 2, 3, 4, 5), 1, 1.5, True, 2.25,
                       'a,"b" <i>&amp;</i>', datetime(2026, 3, 4, 5, 6, 7))
    assert rows[2] == (None, None, None, None, False, None, "  spaced  ", None)
    assert rows[3] == (datetime(1999, 12, 31), datetime(2026, 6, 1, 12, 0), -(2 ** 40), "-inf", None, 0.5, None,
                       datetime(2026, 3, 5))
    assert sheet["A2"].number_format == "yyyy-mm-dd" and sheet["B2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet["C2"].number_format == "General"
    read_by_pandas = pd.read_excel(io.BytesIO(xlsx_sheet.workbook(frame, "ranking")))
    assert read_by_pandas["name"].tolist()[:2] == ['a,"b" <i>&amp;</i>', "  spaced  "]
    assert read_by_pandas["day"].tolist()[0] == pd.Timestamp("2026-01-02")


def test_an_empty_frame_is_a_header_row_and_no_columns_is_an_empty_sheet():
    assert values(xlsx_sheet.workbook(pd.DataFrame(columns=["a", "b"]), "t")) == [("a", "b")]
    assert values(xlsx_sheet.workbook(pd.DataFrame(), "t")) == []


@pytest.mark.parametrize(("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"),
                                                (701, "ZZ"), (702, "AAA"), (16_383, "XFD")])
def test_column_letters(index, letters):
    assert xlsx_sheet.column_letters(index) == letters


def test_many_columns_land_in_their_own_column():
    frame = pd.DataFrame([list(range(60))], columns=[f"c{i}" for i in range(60)])
    sheet = read(xlsx_sheet.workbook(frame, "wide"))
    assert [c.value for c in sheet[2]] == list(range(60)) and sheet.cell(1, 60).value == "c59"


@pytest.mark.parametrize(("name", "sheet"), [
    ("a-very-long-sheet-name-beyond-31-chars", "a-very-long-sheet-name-beyond-3"),
    ("a[b]:c*?/\\d", "abcd"), ("'quoted'", "quoted"), ("", "Sheet1"), ("[]:*?", "Sheet1"),
    ('say "hi" & <go>', 'say "hi" & <go>'), ("tab\there", "tabhere"),
])
def test_sheet_names_are_those_excel_accepts(name, sheet):
    assert read(xlsx_sheet.workbook(pd.DataFrame({"a": [1]}), name)).title == sheet


def test_text_loses_only_what_no_worksheet_holds_and_is_cut_to_excel_s_limit():
    frame = pd.DataFrame({"t": ["a\x00b\x1fc\x0bd\ud800e\ufffff", "tab\tnew\nline\rend", "x" * 40_000, "🎵 العربية"]})
    got = [row[0] for row in values(xlsx_sheet.workbook(frame, "t"))[1:]]
    assert got[0] == "abcdef" and got[1] == "tab\tnew\nline\nend"  # XML reads a bare CR as a line end
    assert got[2] == "x" * xlsx_sheet.MAX_TEXT and got[3] == "🎵 العربية"


def test_the_package_holds_the_parts_excel_opens():
    body = xlsx_sheet.workbook(pd.DataFrame({"a": [1]}), "t")
    with zipfile.ZipFile(io.BytesIO(body)) as package:
        assert package.testzip() is None
        assert set(package.namelist()) == {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
                                           "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/worksheets/sheet1.xml"}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=60), st.integers(-(2 ** 53), 2 ** 53),
                          st.floats(allow_nan=False, allow_infinity=False), st.dates(min_value=date(1900, 3, 1))),
                max_size=8),
       st.text(max_size=40))
def test_any_values_read_back(rows, sheet):
    frame = pd.DataFrame(rows, columns=["text", "int", "float", "day"]).astype({"day": object})
    got = values(xlsx_sheet.workbook(frame, sheet))[1:]
    assert len(got) == len(rows)
    for (text, number, real, day), (text_back, number_back, real_back, day_back) in zip(rows, got, strict=True):
        cleaned = xlsx_sheet.UNFIT.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
        assert (text_back or "") == cleaned
        assert number_back == number and real_back == real and day_back == datetime(day.year, day.month, day.day)
