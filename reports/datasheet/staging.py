"""The datasheet's rows staged on local disk, then given back a batch of patients at a
time, so that an import's memory does not grow with the datasheet (issue 14).

Reading a file puts each row in a temporary SQLite file (Python's own ``sqlite3``, on
the worker's local disk, deleted at the end) with its file, line and the patient code
it belongs to. ``batches()`` then gives the rows of a few hundred patients at a time,
each batch with every row of those patients across all files (a patient's rows never
straddle two batches), in the shape ``Plan`` checks: {file name: ``SheetRows``}.

A datasheet's rules never look across patients (natural keys all start with the
patient code; codes are compared without case), so checking batch by batch finds
exactly what checking everything at once finds.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

from thalimon.said import say

from .reading import Row, SheetRows, stream_datasheet
from .report import DatasheetError, DatasheetInvalid

BATCH_PATIENTS = 500  # patients a batch holds at most
BATCH_ROWS = 50_000  # rows a batch holds at most (unless one patient has more)
_INSERT_EVERY = 5_000


class Staging:
    """Use as a context manager: ``with Staging() as staging: staging.load(path)``."""

    def __init__(self):
        self._folder = tempfile.TemporaryDirectory(prefix="thalimon-import-")
        self.db = sqlite3.connect(Path(self._folder.name) / "staging.sqlite3")
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, file INTEGER, line INTEGER, "
                        "code TEXT, extra INTEGER, cells TEXT)")
        self.sheets = []  # (name, header, problem) in the order read
        self.rows_total = 0
        self._batches = []  # [(first code index, last code index)]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.db.close()
        self._folder.cleanup()

    # --- staging -------------------------------------------------------------------
    def load(self, source, *, max_bytes=None, counter=lambda n: None):
        """Stage every file of the datasheet; ``DatasheetInvalid`` if it cannot be read."""
        names = set()
        for sheet in stream_datasheet(source, max_bytes=max_bytes, counter=counter):
            if sheet.name in names:
                raise DatasheetInvalid([DatasheetError(
                    sheet.name, 0, "", say("the file is in the zip twice; keep one"),
                )])
            names.add(sheet.name)
            self._stage(len(self.sheets), sheet)
            self.sheets.append((sheet.name, list(sheet.header), sheet.problem))
        self._plan_batches()

    def _stage(self, index, sheet):
        pending = []
        position = None
        for row in sheet:
            if position is None:
                header = sheet.header
                position = header.index("patient") if "patient" in header else -1
            cells = [row.get(name, "") for name in header]
            code = cells[position].strip().lower() if position >= 0 else ""
            if not code:  # no patient: checked on its own (the cell errors say why)
                code = f"\x00{index}:{row.line // 1000}"
            pending.append((index, row.line, code, int(row.extra_cells), json.dumps(cells, ensure_ascii=False)))
            if len(pending) >= _INSERT_EVERY:
                self._insert(pending)
        self._insert(pending)

    def _insert(self, pending):
        self.db.executemany("INSERT INTO rows (file, line, code, extra, cells) VALUES (?, ?, ?, ?, ?)", pending)
        self.rows_total += len(pending)
        pending.clear()

    def _plan_batches(self):
        """Patients in the order they first appear, cut into batches."""
        self.db.execute("CREATE TABLE codes (code TEXT PRIMARY KEY, batch INTEGER)")
        counted = self.db.execute("SELECT code, COUNT(*) FROM rows GROUP BY code ORDER BY MIN(id)").fetchall()
        assigned, batch, patients, rows = [], 0, 0, 0
        for code, count in counted:
            if patients and (patients >= BATCH_PATIENTS or rows + count > BATCH_ROWS):
                batch, patients, rows = batch + 1, 0, 0
            assigned.append((code, batch))
            patients, rows = patients + 1, rows + count
        self.db.executemany("INSERT INTO codes (code, batch) VALUES (?, ?)", assigned)
        self.db.execute("CREATE INDEX rows_by_code ON rows (code)")
        self.db.commit()
        self.batch_count = batch + 1 if assigned else 0

    # --- giving back --------------------------------------------------------------
    def headers(self):
        """{file name: ``SheetRows``} without rows: the files, their headers and problems."""
        return {name: SheetRows(header=header, problem=problem) for name, header, problem in self.sheets}

    def batches(self):
        """({file name: ``SheetRows``}, rows in the batch) for each batch, in order."""
        for batch in range(self.batch_count):
            files = self.headers()
            names = [name for name, _, _ in self.sheets]
            count = 0
            for file, line, extra, cells in self.db.execute(
                "SELECT r.file, r.line, r.extra, r.cells FROM rows r JOIN codes c ON c.code = r.code "
                "WHERE c.batch = ? ORDER BY r.id", (batch,),
            ):
                rows = files[names[file]]
                row = Row(zip(rows.header, json.loads(cells), strict=False))
                row.line, row.extra_cells = line, bool(extra)
                rows.append(row)
                count += 1
            yield files, count
