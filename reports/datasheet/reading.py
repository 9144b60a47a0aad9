"""Reading a datasheet folder or a ``.zip`` of one, safely.

Zip members outside the datasheet folder ("zip slip", absolute paths, ``..``,
backslashes), links, encrypted members and anything larger than
``settings.THALIMON_MAX_DATASHEET_BYTES`` are refused with ``DatasheetInvalid``.
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

from .report import DatasheetError, DatasheetInvalid

DEFAULT_MAX_DATASHEET_BYTES = 200 * 1024 * 1024
MAX_COLUMNS = 100  # the widest file has some 40 columns: more is not a datasheet
MAX_ROWS = 5_000_000  # rows per file (a 10,000-patient history has some 1.5 million lab rows)
# Files of operating systems' archivers that hold no datasheet data (macOS resource
# forks, Finder and Explorer metadata). They are skipped, never read.
IGNORED_ENTRIES = ("__MACOSX", "Thumbs.db", "desktop.ini")


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


def parse_csv(data: bytes) -> SheetRows:
    """Rows of one UTF-8 CSV file (a byte-order mark, as Excel writes, is accepted)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return SheetRows(problem=f"not UTF-8 text (invalid byte at offset {error.start}); "
                                 "save the file as CSV UTF-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return SheetRows(problem="empty file: a header row is required")
        if len(header) > MAX_COLUMNS:
            return SheetRows(problem=f"the header has {len(header)} columns; a datasheet file has at most "
                                     f"{MAX_COLUMNS}")
        header = [name.strip() for name in header]
        rows = SheetRows(header=header)
        previous = reader.line_num
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # a blank line
            row = Row(zip(header, record, strict=False))
            for name in header[len(record):]:
                row.setdefault(name, "")
            row.line = start
            row.extra_cells = any(cell.strip() for cell in record[len(header):])
            rows.append(row)
            if len(rows) > MAX_ROWS:
                return SheetRows(header=header, problem=f"more than {MAX_ROWS:,} rows; split the datasheet")
    except csv.Error as error:
        return SheetRows(header=header, problem=f"line {reader.line_num}: not valid CSV ({error})")
    return rows


def _skipped(name):
    base = PurePosixPath(name).name
    return base.startswith(".") or any(part in IGNORED_ENTRIES for part in PurePosixPath(name).parts)


def _read_folder(folder: Path, limit):
    files = {}
    errors = []
    total = 0
    for entry in sorted(folder.iterdir()):
        if _skipped(entry.name):
            continue
        if entry.is_symlink():
            errors.append(DatasheetError(entry.name, 0, "", "refused: a symbolic link"))
            continue
        if entry.is_dir():
            files[entry.name + "/"] = SheetRows()
            continue
        total += entry.stat().st_size
        if total > limit:
            raise DatasheetInvalid([DatasheetError(
                folder.name, 0, "", f"the datasheet is larger than the limit of {_megabytes(limit)}",
            )])
        files[entry.name] = parse_csv(entry.read_bytes()) if entry.suffix == ".csv" else SheetRows()
    if errors:
        raise DatasheetInvalid(errors)
    return files


def _unsafe_member(name):
    """Why a zip member name is refused, or ''."""
    if "\\" in name:
        return "refused: backslashes in a path (a Windows path could leave the datasheet folder)"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "refused: an absolute path (outside the datasheet folder)"
    if ".." in PurePosixPath(name).parts:
        return "refused: '..' in the path (outside the datasheet folder)"
    if "\x00" in name:
        return "refused: a NUL byte in the name"
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
            problem = "refused: a symbolic link"
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
                str(path), 0, "", f"refused: outside the datasheet folder '{folder}'",
            ))
    total = sum(info.file_size for _, info in members)
    if total > limit:
        errors.append(DatasheetError(
            label, 0, "", f"the zip unpacks to {_megabytes(total)}, above the limit of "
                          f"{_megabytes(limit)}",
        ))
    if errors:
        raise DatasheetInvalid(errors)
    return members


def _read_zip(source, limit, label):
    size = _zip_size(source)
    if size > limit:
        raise DatasheetInvalid([DatasheetError(
            label, 0, "", f"the zip is {_megabytes(size)}, above the limit of {_megabytes(limit)}",
        )])
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise DatasheetInvalid([DatasheetError(label, 0, "", f"not a valid zip file ({error})")]) from error
    with archive:
        members = _safe_members(archive, limit, label)
        files = {}
        for path, info in members:
            if info.flag_bits & 0x1:
                raise DatasheetInvalid([DatasheetError(path.name, 0, "", "refused: encrypted")])
            data = _member_bytes(archive, info, limit, path)
            if len(data) > limit:
                raise DatasheetInvalid([DatasheetError(
                    path.name, 0, "", f"larger than the limit of {_megabytes(limit)}",
                )])
            files[path.name] = parse_csv(data) if path.suffix == ".csv" else SheetRows()
        return files


# What a damaged or lying zip raises while a member is read (bad CRC, truncated data,
# a size header that lies, an unknown compression method).
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)


def _member_bytes(archive, info, limit, path):
    try:
        with archive.open(info) as handle:
            return handle.read(limit + 1)
    except _DAMAGED as error:
        raise DatasheetInvalid([DatasheetError(
            path.name, 0, "", f"the zip is damaged and this file cannot be read ({type(error).__name__}); "
                              "make the zip again",
        )]) from error


def read_datasheet(path_or_zipfile, *, max_bytes=None) -> dict:
    """{file name: rows} of a datasheet folder or zip (a path or an open binary file).

    Raises ``DatasheetInvalid`` when the datasheet cannot be read safely.
    """
    limit = max_bytes if max_bytes is not None else max_datasheet_bytes()
    if isinstance(path_or_zipfile, (str, os.PathLike)):
        path = Path(path_or_zipfile)
        if path.is_dir():
            return _read_folder(path, limit)
        if not path.exists():
            raise DatasheetInvalid([DatasheetError(path.name, 0, "", "no such file or folder")])
        return _read_zip(path, limit, path.name)
    name = getattr(path_or_zipfile, "name", None) or "datasheet.zip"
    return _read_zip(path_or_zipfile, limit, PurePosixPath(str(name)).name)
