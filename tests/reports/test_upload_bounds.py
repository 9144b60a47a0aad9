"""Issue 13, item 4: uploads bounded. Each pentest finding reproduced at a small scale: a
header of a million columns, a file of thousands of bad rows (errors capped), damaged zips."""

import io
import zipfile

import pytest

from reports.datasheet import import_datasheet
from reports.datasheet.reading import MAX_COLUMNS, read_datasheet
from reports.datasheet.report import MAX_LISTED, DatasheetInvalid

pytestmark = pytest.mark.django_db


def _zip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    buffer.seek(0)
    buffer.name = "sheet.zip"
    return buffer


def test_a_header_of_a_million_columns_is_refused_at_once():
    header = ",".join(f"c{i}" for i in range(1_000_004))
    files = read_datasheet(_zip({"patients.csv": header + "\n"}))
    assert files["patients.csv"].problem == f"the header has 1000004 columns; a datasheet file has at most {MAX_COLUMNS}"
    report = import_datasheet(_zip({"patients.csv": header + "\n"}))
    assert [str(e) for e in report.errors] == [
        f"patients.csv:0: the header has 1000004 columns; a datasheet file has at most {MAX_COLUMNS}"]


def test_errors_are_capped_and_counted():
    from tests.reports.test_datasheet_bad_input import BASE

    columns = list(BASE["patients.csv"])
    base = dict(BASE["patients.csv"], birth_date="notadate")
    rows = "".join(",".join({**base, "patient": f"BAD{i}"}[c] for c in columns) + "\n" for i in range(3 * MAX_LISTED))
    report = import_datasheet(_zip({"patients.csv": ",".join(columns) + "\n" + rows}))
    assert len(report.errors) == MAX_LISTED + 1
    last = str(report.errors[-1])
    assert last.startswith("datasheet:0: … and ") and f"the first {MAX_LISTED} are" in last
    assert not report.written


def test_a_damaged_zip_is_refused_cleanly():
    good = _zip({"patients.csv": "patient,sex\nA1,M\n" * 200}).getvalue()
    member = good.index(b"patients.csv") + len("patients.csv")  # local header, then the data
    damaged = bytearray(good)
    damaged[member + 20] ^= 0xFF  # one flipped byte in the compressed data: CRC or inflate fails
    source = io.BytesIO(bytes(damaged))
    source.name = "sheet.zip"
    with pytest.raises(DatasheetInvalid) as refused:
        read_datasheet(source)
    assert "damaged" in str(refused.value) or "not a valid zip" in str(refused.value)
    truncated = io.BytesIO(good[: len(good) // 2])
    truncated.name = "sheet.zip"
    report = import_datasheet(truncated)
    assert report.errors and not report.written
