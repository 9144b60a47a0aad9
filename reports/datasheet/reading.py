"""Reading a datasheet folder or a ``.zip`` of one, safely, as a stream.

Zip members outside the datasheet folder ("zip slip", absolute paths, ``..``,
backslashes), links, encrypted members and anything larger than
``settings.THALIMON_MAX_DATASHEET_BYTES`` are refused with ``DatasheetInvalid``.

``stream_datasheet`` yields the files one at a time, each a ``CsvSheet`` whose rows are
read as they are iterated: the import stages them on disk (``staging.py``) and never
holds a whole datasheet in memory. ``read_datasheet`` reads everything into memory
(the small datasheets of the tests and of ``validate_datasheet``).
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from django.conf import settings

from thalimon.said import say

from .report import DatasheetError, DatasheetInvalid

DEFAULT_MAX_DATASHEET_BYTES = 200 * 1024 * 1024
MAX_COLUMNS = 100  # the widest file has some 40 columns: more is not a datasheet
MAX_ROWS = 5_000_000  # rows per file (a 10,000-patient history has some 1.5 million lab rows)
# Files of operating systems' archivers that hold no datasheet data (macOS resource
# forks, Finder and Explorer metadata). They are skipped, never read.
IGNORED_ENTRIES = ("__MACOSX", "Thumbs.db", "desktop.ini")
# What a damaged or lying zip raises while a member is read (bad CRC, truncated data,
# a size header that lies, an unknown compression method).
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)


class Row(dict):
    """One CSV record: column -> cell text, with its line number."""

    line = 0
    extra_cells = False


class SheetRows(list):
    """The rows of one file, with its header and any problem reading it."""

    def __init__(self, rows=(), *, header=None, problem=""):
        super().__init__(rows)
        self.header = list(header or [])
        self.problem = problem


def max_datasheet_bytes():
    return getattr(settings, "THALIMON_MAX_DATASHEET_BYTES", DEFAULT_MAX_DATASHEET_BYTES)


def _megabytes(size):
    return f"{size / (1024 * 1024):.1f} MB"


class _TooLarge(Exception):
    pass


class _Capped(io.RawIOBase):
    """A binary stream that counts what is read and stops past ``limit`` bytes (a zip
    member whose size header lies, a file that grows while it is read)."""

    def __init__(self, raw, limit, counter):
        self._raw, self._limit, self._counter = raw, limit, counter
        self.read_bytes = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self._raw.read(len(buffer))
        self.read_bytes += len(data)
        self._counter(len(data))
        if self.read_bytes > self._limit:
            raise _TooLarge
        buffer[: len(data)] = data
        return len(data)


class CsvSheet:
    """The rows of one UTF-8 CSV file, read as they are iterated (a byte-order mark, as
    Excel writes, is accepted). ``header`` is known once the first row is read;
    ``problem`` says why the file could not be read (set during the iteration)."""

    def __init__(self, name, opener, limit, counter=lambda n: None, label=None):
        self.name, self.header, self.problem = name, [], ""
        self._opener, self._limit, self._counter = opener, limit, counter
        self._label = label or name

    def __iter__(self):
        try:
            with self._opener() as raw:
                capped = _Capped(raw, self._limit, self._counter)
                text = io.TextIOWrapper(io.BufferedReader(capped, 1 << 16), encoding="utf-8-sig", newline="")
                yield from self._rows(csv.reader(text))
        except _TooLarge:
            raise DatasheetInvalid([DatasheetError(
                self.name, 0, "", say("larger than the limit of %(size)s", size=_megabytes(self._limit)),
            )]) from None
        except _DAMAGED as error:
            raise DatasheetInvalid([DatasheetError(
                self.name, 0, "", say("the zip is damaged and this file cannot be read (%(kind)s); "
                                      "make the zip again", kind=type(error).__name__),
            )]) from error

    def _rows(self, reader):
        try:
            header = next(reader, None)
            if header is None:
                self.problem = say("empty file: a header row is required")
                return
            if len(header) > MAX_COLUMNS:
                self.problem = say("the header has %(count)s columns; a datasheet file has at most %(most)s",
                                   count=len(header), most=MAX_COLUMNS)
                return
            self.header = header = [name.strip() for name in header]
            previous, count = reader.line_num, 0
            for record in reader:
                start, previous = previous + 1, reader.line_num
                if not any(cell.strip() for cell in record):
                    continue  # a blank line
                row = Row(zip(header, record, strict=False))
                for name in header[len(record):]:
                    row.setdefault(name, "")
                row.line = start
                row.extra_cells = any(cell.strip() for cell in record[len(header):])
                count += 1
                if count > MAX_ROWS:
                    self.problem = say("more than %(rows)s rows; split the datasheet", rows=f"{MAX_ROWS:,}")
                    return
                yield row
        except UnicodeDecodeError:
            self.problem = say("not UTF-8 text (an invalid byte near line %(line)s); "
                               "save the file as CSV UTF-8", line=reader.line_num + 1)
        except csv.Error as error:
            self.problem = say("line %(line)s: not valid CSV (%(error)s)", line=reader.line_num, error=str(error))


class _Unread:
    """A file of the datasheet that is not CSV (its name alone is checked)."""

    def __init__(self, name):
        self.name, self.header, self.problem = name, [], ""

    def __iter__(self):
        return iter(())


def parse_csv(data: bytes) -> SheetRows:
    """Rows of one UTF-8 CSV file held in memory."""
    sheet = CsvSheet("file", lambda: io.BytesIO(data), len(data) + 1)
    rows = list(sheet)
    return SheetRows(rows, header=sheet.header, problem=sheet.problem)


def _skipped(name):
    base = PurePosixPath(name).name
    if base.lower().startswith("readme"):
        return True  # the template's README (and a clinic's own notes) beside the files
    return base.startswith(".") or any(part in IGNORED_ENTRIES for part in PurePosixPath(name).parts)


def _folder_sheets(folder: Path, limit, counter):
    entries = [e for e in sorted(folder.iterdir()) if not _skipped(e.name)]
    links = [DatasheetError(e.name, 0, "", say("refused: a symbolic link")) for e in entries if e.is_symlink()]
    if links:
        raise DatasheetInvalid(links)
    total = sum(e.stat().st_size for e in entries if e.is_file())
    if total > limit:
        raise DatasheetInvalid([DatasheetError(
            folder.name, 0, "", say("the datasheet is larger than the limit of %(size)s", size=_megabytes(limit)),
        )])
    for entry in entries:
        if entry.is_dir():
            yield _Unread(entry.name + "/")
        elif entry.suffix == ".csv":
            yield CsvSheet(entry.name, lambda entry=entry: open(entry, "rb"), limit, counter)
        else:
            yield _Unread(entry.name)


def _unsafe_member(name):
    """Why a zip member name is refused, or ''."""
    if "\\" in name:
        return say("refused: backslashes in a path (a Windows path could leave the datasheet folder)")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return say("refused: an absolute path (outside the datasheet folder)")
    if ".." in PurePosixPath(name).parts:
        return say("refused: '..' in the path (outside the datasheet folder)")
    if "\x00" in name:
        return say("refused: a NUL byte in the name")
    return ""


def _zip_size(source):
    """The size of the zip file (a path, or an open binary file left where it was)."""
    if isinstance(source, (str, os.PathLike)):
        return os.path.getsize(source)
    position = source.tell()
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(position)
    return size


def _safe_members(archive, limit, label):
    """[(path, info)] of the zip's data files; ``DatasheetInvalid`` for any unsafe member,
    members outside the one datasheet folder, or an unpacked size above the limit."""
    errors, members = [], []
    for info in archive.infolist():
        name = info.filename
        problem = _unsafe_member(name)
        if not problem and (info.external_attr >> 16) & 0o170000 == 0o120000:
            problem = say("refused: a symbolic link")
        if not problem and info.flag_bits & 0x1:
            problem = say("refused: encrypted")
        if problem:
            errors.append(DatasheetError(name, 0, "", problem))
            continue
        if info.is_dir() or _skipped(name):
            continue
        members.append((PurePosixPath(name), info))
    # The datasheet is one folder: files at the top of the zip, or all in one folder.
    folder = min((path.parent for path, _ in members), key=lambda p: len(p.parts), default=None)
    for path, _ in members:
        if path.parent != folder:
            errors.append(DatasheetError(
                str(path), 0, "", say("refused: outside the datasheet folder '%(folder)s'", folder=str(folder)),
            ))
    total = sum(info.file_size for _, info in members)
    if total > limit:
        errors.append(DatasheetError(
            label, 0, "", say("the zip unpacks to %(size)s, above the limit of %(limit)s",
                              size=_megabytes(total), limit=_megabytes(limit)),
        ))
    if errors:
        raise DatasheetInvalid(errors)
    return members


def _zip_sheets(source, limit, label, counter):
    size = _zip_size(source)
    if size > limit:
        raise DatasheetInvalid([DatasheetError(
            label, 0, "", say("the zip is %(size)s, above the limit of %(limit)s",
                              size=_megabytes(size), limit=_megabytes(limit)),
        )])
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise DatasheetInvalid([DatasheetError(label, 0, "", say("not a valid zip file (%(error)s)", error=str(error)))]) from error
    with archive:
        for path, info in _safe_members(archive, limit, label):
            if path.suffix == ".csv":
                yield CsvSheet(path.name, lambda info=info: archive.open(info), limit, counter)
            else:
                yield _Unread(path.name)


def datasheet_size(source) -> int:
    """The bytes a datasheet holds (unpacked), for progress; 0 when it cannot be told."""
    try:
        if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
            return sum(e.stat().st_size for e in Path(source).iterdir() if e.is_file())
        with zipfile.ZipFile(source) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return 0
    finally:
        if hasattr(source, "seek"):
            source.seek(0)


def stream_datasheet(source, *, max_bytes=None, counter=lambda n: None):
    """The files of a datasheet folder or zip (a path or an open binary file), one at a
    time: each a ``CsvSheet`` to iterate (or an unread non-CSV file). Raises
    ``DatasheetInvalid`` when the datasheet cannot be read safely. ``counter`` is told
    every number of bytes read."""
    limit = max_bytes if max_bytes is not None else max_datasheet_bytes()
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            yield from _folder_sheets(path, limit, counter)
            return
        if not path.exists():
            raise DatasheetInvalid([DatasheetError(path.name, 0, "", say("no such file or folder"))])
        yield from _zip_sheets(path, limit, path.name, counter)
        return
    name = getattr(source, "name", None) or "datasheet.zip"
    yield from _zip_sheets(source, limit, PurePosixPath(str(name)).name, counter)


def read_datasheet(path_or_zipfile, *, max_bytes=None) -> dict:
    """{file name: rows} of a datasheet folder or zip, all in memory.

    Raises ``DatasheetInvalid`` when the datasheet cannot be read safely.
    """
    files = {}
    for sheet in stream_datasheet(path_or_zipfile, max_bytes=max_bytes):
        rows = list(sheet)
        files[sheet.name] = SheetRows(rows, header=sheet.header, problem=sheet.problem)
    return files
