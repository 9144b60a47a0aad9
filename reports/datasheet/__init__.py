"""Cohort datasheet import and export (interfaces.md §1, commands §2).

One service behind ``manage.py import_datasheet``, ``manage.py export_datasheet``
and the web upload:

* ``read_datasheet(path_or_zip)`` reads a folder or a ``.zip`` of one, refusing
  zip members outside the datasheet folder ("zip slip", absolute paths, ``..``,
  links) and anything larger than ``settings.THALIMON_MAX_DATASHEET_BYTES``
  (``reading.py``).
* ``validate_datasheet(files)`` checks EVERYTHING and returns every error as
  ``file:line: column: message`` in one report. Nothing is written (``plan.py``).
* ``import_datasheet(path)`` validates, then writes all of it or nothing in one
  transaction, with history (``importing.py``, ``writing.py``).
* ``export_datasheet(directory)`` writes every file with every column, plus the
  computed columns, in a deterministic order (``export.py``).

``FILES`` (file name -> ``FileSpec``: model, columns, natural key) and
``FILE_ORDER`` describe the format (``format.py``).

The modules: ``format`` (files, columns, vocabularies), ``report`` (findings and
the report), ``reading`` (folder/zip), ``cells`` (cell conversion), ``plan`` (the
check, step by step) with ``merging`` (rows into records), ``course`` (the
thalidomide course), ``validation`` (model validation as findings), ``records``
(the in-memory records), ``compute`` (scores, statuses, dose checks), ``writing``
(bulk SQL and alerts), ``importing`` and ``export``.
"""

from .export import export_datasheet
from .format import FILE_ORDER, FILES
from .importing import import_datasheet, validate_datasheet
from .reading import read_datasheet
from .report import DatasheetError, DatasheetInvalid, ImportReport

__all__ = [
    "FILES",
    "FILE_ORDER",
    "DatasheetError",
    "DatasheetInvalid",
    "ImportReport",
    "export_datasheet",
    "import_datasheet",
    "read_datasheet",
    "validate_datasheet",
]
