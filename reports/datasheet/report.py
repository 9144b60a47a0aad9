"""What a check or an import gives back: findings as ``file:line: column: message``."""

from __future__ import annotations

from dataclasses import dataclass, field

from thalimon.said import Said, say, say_n

from .format import FILE_ORDER, FILES


@dataclass
class DatasheetError:
    """One finding. ``line`` is the CSV line number (header = 1; 0 = the file as a whole).
    ``message`` is a ``thalimon.said.Said`` (or plain text: a model's own message)."""

    file: str
    line: int
    column: str
    message: str

    def said(self) -> Said:
        """The whole line ``file:line: column: message`` as one ``Said`` (the job page
        renders it in the reader's language; its English is ``str(self)``)."""
        if self.column:
            return say("%(file)s:%(line)s: %(column)s: %(message)s",
                       file=self.file, line=self.line, column=self.column, message=self.message)
        return say("%(file)s:%(line)s: %(message)s", file=self.file, line=self.line, message=self.message)

    def __str__(self):
        return str(self.said())


@dataclass
class ImportReport:
    errors: list = field(default_factory=list)  # DatasheetError
    warnings: list = field(default_factory=list)  # DatasheetError
    counts: dict = field(default_factory=dict)  # file -> {"created", "updated", "unchanged"}
    dry_run: bool = False
    written: bool = False
    error_total: int = 0  # every error found (``errors`` lists the first MAX_LISTED)
    warning_total: int = 0

    @property
    def ok(self):
        return not self.errors


class DatasheetInvalid(Exception):
    """The datasheet could not be read at all (zip slip, size limit, not a zip)."""

    def __init__(self, errors):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


MAX_LISTED = 1000  # findings kept and shown; beyond, only counted (a job page stays small)


class Findings:
    """The errors and warnings of one check. One error per file, line and column:
    the first one found is kept (a later one there is an echo of it)."""

    def __init__(self):
        self._errors = {}  # (file, line, column) -> DatasheetError
        self._warnings = []
        self.more_errors = 0  # found beyond MAX_LISTED: counted, not kept
        self.more_warnings = 0

    def error(self, file, line, column, message):
        key = (file, line, column)
        if key not in self._errors and len(self._errors) >= MAX_LISTED:
            self.more_errors += 1
            return
        self._errors.setdefault(key, DatasheetError(file, line, column, message))

    def warn(self, file, line, column, message):
        if len(self._warnings) >= MAX_LISTED:
            self.more_warnings += 1
            return
        self._warnings.append(DatasheetError(file, line, column, message))

    @property
    def warnings(self):
        return self._warnings + _more(self.more_warnings, "warning")

    @property
    def error_count(self):
        return len(self._errors) + self.more_errors

    @property
    def warning_count(self):
        return len(self._warnings) + self.more_warnings

    @property
    def errors(self):
        """The errors in file order, then by line, then in the file's column order."""

        def order(item):
            (file, line, column), _ = item
            index = FILE_ORDER.index(file) if file in FILES else len(FILE_ORDER)
            names = [c.name for c in FILES[file].columns] if file in FILES else []
            position = names.index(column) if column in names else -1
            return (index, file, line, position, column)

        listed = [error for _, error in sorted(self._errors.items(), key=order)]
        return listed + _more(self.more_errors, "error")


def _more(count, what):
    """The line that says how many findings were found beyond the listed ones."""
    if not count:
        return []
    if what == "error":
        message = say_n("… and %(count)s more error, not listed (the first %(listed)s are)",
                        "… and %(count)s more errors, not listed (the first %(listed)s are)",
                        count, listed=MAX_LISTED)
    else:
        message = say_n("… and %(count)s more warning, not listed (the first %(listed)s are)",
                        "… and %(count)s more warnings, not listed (the first %(listed)s are)",
                        count, listed=MAX_LISTED)
    return [DatasheetError("datasheet", 0, "", message)]
