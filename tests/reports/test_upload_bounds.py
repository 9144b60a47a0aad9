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


def test_datasheet_text_cells_never_run_as_formulas_and_the_round_trip_stays_identical(tmp_path):
    """Issue 13, item 7: a text cell starting with = + - @ (or an apostrophe) is exported with a
    leading apostrophe, which the import drops again."""
    import csv

    from reports.datasheet import FILE_ORDER, export_datasheet
    from safety.models import AdverseEvent
    from tests.reports.test_datasheet_bad_input import _sheet, _write
    from tests.reports.test_non_reproductive_reason import _delete_everything
    from visits.models import Visit

    texts = {"notes": "=HYPERLINK(\"http://evil.example\",\"x\")", "term_text": "''quoted", "reason": "-3 days late"}
    sheet = _sheet({("visits.csv", "notes"): texts["notes"], ("adverse_events.csv", "term"): "other",
                    ("adverse_events.csv", "term_text"): texts["term_text"], ("doses.csv", "reason"): texts["reason"]})
    assert import_datasheet(_write(tmp_path / "sheet", sheet)).errors == []
    stored_notes = Visit.objects.get().notes
    assert stored_notes == texts["notes"]  # a cell without the guard imports as written
    assert AdverseEvent.objects.get().term_text == "'quoted"  # one leading apostrophe dropped
    first, second = tmp_path / "first", tmp_path / "second"
    export_datasheet(first)
    cells = {name: list(csv.DictReader((first / name).open(encoding="utf-8")))[0]
             for name in ("visits.csv", "adverse_events.csv", "doses.csv")}
    assert cells["visits.csv"]["notes"] == "'" + texts["notes"]
    assert cells["adverse_events.csv"]["term_text"] == "''quoted"
    assert cells["doses.csv"]["reason"] == "'-3 days late"
    _delete_everything()
    assert import_datasheet(first).errors == []
    assert AdverseEvent.objects.get().term_text == "'quoted" and Visit.objects.get().notes == stored_notes
    export_datasheet(second)
    for name in FILE_ORDER:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
