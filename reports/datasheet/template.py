"""The empty datasheet a clinic lead starts from: a zip with every file's header row and
a README of the columns (what each holds, required or not, its codes), from the same
format description the import checks against (``format.py``)."""

from __future__ import annotations

import io
import zipfile

from .format import FILE_ORDER, FILES
from .reading import MAX_COLUMNS, MAX_ROWS, max_datasheet_bytes

KINDS = {
    "text": "text",
    "code": "a patient code (compared without case)",
    "date": "a date as YYYY-MM-DD, not in the future",
    "decimal": "a number (a point for decimals)",
    "int": "a whole number",
    "flag": "1 (yes), 0 (no) or empty (unknown)",
    "choice": "one of",
    "computed": "computed by ThaliMon (exported; on import compared with the recomputed value)",
}


def _readme():
    lines = [
        "ThaliMon cohort datasheet",
        "=========================",
        "",
        "One CSV file per kind of record, UTF-8 (Excel's 'CSV UTF-8' is fine), comma-separated,",
        "the header row first. patients.csv is required; every other file is optional.",
        "Zip the files (at the top of the zip, or all in one folder) and upload the zip.",
        "",
        "Everything is checked before anything is written: a datasheet with any error imports",
        "nothing, and every error is listed as file:line: column: message. Importing the same",
        "datasheet again changes nothing.",
        "",
        f"Limits: {max_datasheet_bytes() // (1024 * 1024)} MB unpacked, {MAX_COLUMNS} columns and "
        f"{MAX_ROWS:,} rows per file.",
        "",
    ]
    for name in FILE_ORDER:
        spec = FILES[name]
        lines += [name, "-" * len(name)]
        for column in spec.columns:
            need = "required" if column.required else "optional"
            text = f"  {column.name} ({need}): {KINDS[column.kind]}"
            if column.choices:
                text += ": " + ", ".join(str(c) for c in column.choices)
            lines.append(text)
        lines.append("")
    return "\n".join(lines)


def datasheet_template() -> bytes:
    """The template zip's bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in FILE_ORDER:
            header = ",".join(c.name for c in FILES[name].columns if c.kind != "computed")
            archive.writestr(f"datasheet/{name}", header + "\n")
        archive.writestr("datasheet/README.txt", _readme())
    return buffer.getvalue()
