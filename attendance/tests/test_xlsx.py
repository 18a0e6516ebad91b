"""The streamed XLSX writer (attendance.xlsx): openpyxl reads back exactly the text
written, and the first bytes leave before any row is read."""

from __future__ import annotations

import io
import zipfile

import openpyxl

from attendance.xlsx import row_xml, stream_xlsx

HEADER = ["id", "name", "note"]


def read_back(body: bytes) -> list[list[str]]:
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    return [["" if value is None else value for value in row] for row in sheet.values]


def test_openpyxl_reads_back_the_same_text():
    rows = [
        ["1", "Zoë <Ops> & \"Co\" 'x'", "  leading and trailing  "],
        ["2", "日本語 ✓", ""],
        ["3", "tab\tand\nnewline", "=1+1"],
    ]
    body = b"".join(stream_xlsx(HEADER, rows, sheet_name="Attendance"))
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    assert workbook.sheetnames == ["Attendance"]
    assert read_back(body) == [HEADER, *rows]
    # A formula-looking text stays text: nothing in an export is evaluated.
    assert workbook.active["C4"].data_type == "s"


def test_characters_xml_cannot_hold_are_dropped():
    body = b"".join(stream_xlsx(HEADER, [["1", "bell\x07 and nul\x00", "ok"]]))
    assert read_back(body)[1] == ["1", "bell and nul", "ok"]


def test_the_first_block_leaves_before_any_row_is_read():
    read: list[int] = []

    def rows():
        for number in range(2000):
            read.append(number)
            yield [str(number), "x", "y"]

    blocks = stream_xlsx(HEADER, rows())
    first = next(blocks)
    assert first.startswith(b"PK\x03\x04") and read == []
    body = first + b"".join(blocks)
    assert len(read) == 2000
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
    assert len(read_back(body)) == 2001


def test_empty_cells_are_left_out_and_columns_go_past_z():
    columns = [f"c{n}" for n in range(30)]
    assert row_xml(1, ["a", "", "b"], ["A", "B", "C"]).count("<c ") == 2
    body = b"".join(stream_xlsx(columns, [[str(n) for n in range(30)]]))
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert sheet["AD2"].value == "29"
