"""A one-sheet XLSX workbook of text cells, written as a stream of bytes.

An XLSX file is a zip of XML parts. openpyxl (even in write-only mode) finishes the
whole workbook before the first byte can be sent: a year's export took 2 to 4 minutes
before its download began, longer than many proxies wait (BENCHMARKS.md). Here the zip
is written to a sink that is never rewound: ``zipfile`` then puts each part's sizes and
CRC in a data descriptor after its data, so the sheet's rows can be compressed and sent
as they are read, and the central directory follows at the end.

Every cell is an inline string (``t="inlineStr"``), as in the CSV, so both formats hold
the same text; no shared-strings table has to be kept in memory.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from xml.sax.saxutils import escape

ROWS_PER_WRITE = 500
SHEET_PATH = "xl/worksheets/sheet1.xml"

# Characters XML 1.0 cannot hold (openpyxl refuses them too): dropped from cell text.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "<sheetData>"
)
_SHEET_TAIL = "</sheetData></worksheet>"


def _workbook(sheet_name: str) -> str:
    name = escape(_ILLEGAL.sub("", sheet_name)[:31], {'"': "&quot;"})
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )


def _column(index: int) -> str:
    """Spreadsheet column letters of a 0-based index: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(text: str) -> str:
    text = escape(_ILLEGAL.sub("", text))
    return f'<is><t xml:space="preserve">{text}</t></is></c>'


def row_xml(number: int, values: Sequence[str], columns: Sequence[str]) -> str:
    """One ``<row>`` of inline-string cells, numbered from 1; empty values are left out,
    as a spreadsheet leaves empty cells out."""
    cells = "".join(
        f'<c r="{column}{number}" t="inlineStr">{_cell(value)}'
        for column, value in zip(columns, values, strict=False)
        if value != ""
    )
    return f'<row r="{number}">{cells}</row>'


class _Sink:
    """A write-only, unseekable target for ``zipfile`` that hands back what it got."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        """Keep ``data`` until the next ``take``."""
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered beyond what ``take`` returns."""

    def take(self) -> bytes:
        """Everything written since the last call."""
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def stream_xlsx(
    header: Sequence[str], rows: Iterable[Sequence[str]], sheet_name: str = "Sheet1"
) -> Iterator[bytes]:
    """The workbook's bytes, a block at a time: its small parts first, then the sheet
    ``ROWS_PER_WRITE`` rows at a time, then the zip's directory."""
    sink = _Sink()
    columns = [_column(index) for index in range(len(header))]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(sheet_name))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        yield sink.take()
        # force_zip64: the sheet's size is not known in advance and may pass 4 GiB.
        with archive.open(SHEET_PATH, "w", force_zip64=True) as sheet:
            block = [_SHEET_HEAD, row_xml(1, header, columns)]
            for number, row in enumerate(rows, start=2):
                block.append(row_xml(number, row, columns))
                if len(block) >= ROWS_PER_WRITE:
                    sheet.write("".join(block).encode())
                    block.clear()
                    if data := sink.take():
                        yield data
            block.append(_SHEET_TAIL)
            sheet.write("".join(block).encode())
    yield sink.take()
