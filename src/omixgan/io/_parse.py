"""Parsing of delimited numeric tables with errors that name the file, line, feature and sample.

Everything here errs on the side of refusing: a table whose layout is ambiguous (a header that
could be shifted by one, a separator that is not the one expected, a row with a field too many)
is an error that says what was seen, never a guess that could move every value to another
sample. What is unambiguous is accepted and read exactly: a UTF-8 byte-order mark, Windows
(CRLF) or old Mac (CR) line ends, a trailing separator at the end of the header or of every row,
quoted fields, blank lines at the end.
"""

from __future__ import annotations

import codecs
import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd

#: Cell values read as missing (R's ``write.table`` writes ``NA``).
NA_TOKENS = ("", "NA", "NaN", "nan", "NAN", "N/A", "na", "null", "NULL")

#: Separators that are recognised (and named in errors), in order of preference.
SEPARATORS = {"\t": "tab", ",": "comma", ";": "semicolon", " ": "space"}

#: What a full-length header may hold above the row names; in a header one field shorter than
#: the rows (R's ``write.table``), such a first name means a column name is missing instead.
CORNER_LABELS = {
    "",
    "gene",
    "genes",
    "gene_id",
    "id",
    "ids",
    "feature",
    "features",
    "probe",
    "probes",
    "name",
    "names",
    "sample",
    "samples",
    "rownames",
    "row.names",
    "x",
}

#: Words that make a header's first field recognisably a label of the row-name column.
CORNER_WORDS = ("id", "gene", "symbol", "probe", "feature", "name", "sample", "unnamed", "row")


def _looks_like_corner(field: str) -> bool:
    import re

    words = re.split(r"[^0-9a-z]+", field.lower())
    return field.lower() in CORNER_LABELS or any(word in CORNER_WORDS for word in words)


#: How to treat infinite cells: refuse them, or read them as missing values.
NONFINITE = ("raise", "nan")

#: Data rows inspected to recognise the separator.
SNIFF_ROWS = 20


def separator_name(sep: str) -> str:
    return SEPARATORS.get(sep, repr(sep))


def check_readable(path: Path, what: str = "file") -> None:
    """Raise a clear error when ``path`` is missing, not a file or not readable."""
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: '{path}'.")
    if not path.is_file():
        raise IsADirectoryError(f"expected a {what}, got a directory: '{path}'.")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"{what} is not readable (permission denied): '{path}'.")


def read_lines(path: Path) -> list[str]:
    """The lines of a text file, trailing blank lines dropped.

    A UTF-8 byte-order mark (Excel writes one) is removed, not read into the first name; UTF-16
    with a byte-order mark (Excel's "Unicode text") is decoded; CRLF and CR line ends are lines.
    """
    check_readable(path)
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise ValueError(
            f"'{path}' is not a UTF-8 text file (byte {err.start} cannot be decoded); "
            "expected a tab- or comma-separated table."
        ) from None
    if "\x00" in text:
        raise ValueError(f"'{path}' holds NUL bytes: a binary file, not a text table.")
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ValueError(f"'{path}' is empty.")
    return lines


def split_row(line: str, sep: str) -> list[str]:
    """Fields of one line (quotes as in CSV), stripped of surrounding spaces."""
    fields = next(csv.reader([line], delimiter=sep, quotechar='"'), [""])
    return [field.strip() for field in fields] if fields else [""]


def _split_all(lines: list[str], sep: str) -> list[list[str]]:
    return [
        [field.strip() for field in row] or [""]
        for row in csv.reader(lines, delimiter=sep, quotechar='"')
    ]


def _fits(lines: list[str], sep: str) -> bool:
    """Whether ``sep`` splits the first data rows into equally many fields, at least two."""
    counts = {len(split_row(line, sep)) for line in lines[1 : 1 + SNIFF_ROWS] if line.strip()}
    return len(counts) == 1 and counts.pop() >= 2


def detect_separator(
    lines: list[str], path: Path, sep: str | None, *, preferred: str = "\t", context: str = ""
) -> str:
    """The separator of a table: ``sep`` when it fits the data, else a clear error naming the one
    that does; with ``sep=None`` the one that fits (``preferred`` first).

    Only a separator that splits every inspected data row into the same number of fields (two
    or more) fits. Space is named in errors but never chosen by itself: names with spaces would
    split.
    """
    fitting = [s for s in SEPARATORS if _fits(lines, s)]
    if sep is not None:
        if sep in fitting or _fits(lines, sep) or not fitting:
            return sep
        found = fitting[0]
        raise ValueError(
            f"'{path}' looks {separator_name(found)}-separated, not {separator_name(sep)}-separated"
            f"{context}: line 2 splits into {len(split_row(lines[1], found))} fields at "
            f"{separator_name(found)}s but {len(split_row(lines[1], sep))} at "
            f"{separator_name(sep)}s. "
            + (
                "The course format is tab-separated: save the file as tab-separated text."
                if context
                else f"Pass sep={found!r} if that is what the file uses."
            )
        )
    candidates = [preferred] + [s for s in SEPARATORS if s not in (preferred, " ")]
    for candidate in candidates:
        if candidate in fitting:
            return candidate
    if " " in fitting:
        raise ValueError(
            f"'{path}' looks space-separated; pass sep=' ' if that is what the file uses (sample "
            "and feature names must then have no spaces), or save it as tab- or comma-separated."
        )
    return preferred


def cells_to_float(
    cells: np.ndarray,
    path: Path,
    row_names,
    col_names,
    row_offset: int,
    row_kind: str,
    col_kind: str,
) -> np.ndarray:
    """Convert a 2-D array of strings to float32, naming the first non-numeric cell on failure.

    ``row_offset`` is the 1-based line number of the first data row, so errors point into the file.
    """
    cells = np.where(np.isin(cells, NA_TOKENS), "nan", cells)
    try:
        with np.errstate(over="ignore"):  # beyond float32's range: inf, handled by the caller
            return cells.astype(np.float64).astype(np.float32)
    except ValueError:
        pass
    for i, row in enumerate(cells):
        numeric = pd.to_numeric(pd.Series(row), errors="coerce").to_numpy()
        bad = np.flatnonzero(np.isnan(numeric) & (row != "nan"))
        if bad.size:
            j = bad[0]
            raise ValueError(
                f"non-numeric value '{row[j]}' in '{path}', line {row_offset + i}: "
                f"{row_kind} '{row_names[i]}', {col_kind} '{col_names[j]}'. "
                "Missing values must be empty or one of "
                f"{', '.join(repr(t) for t in NA_TOKENS[1:4])}."
            )
    raise AssertionError(
        "unreachable: a cell failed to convert but none was found"
    )  # pragma: no cover


def handle_nonfinite(
    values: np.ndarray,
    path: Path,
    row_names,
    col_names,
    row_offset: int,
    row_kind: str,
    col_kind: str,
    nonfinite: str,
) -> int:
    """Refuse infinite cells (``nonfinite="raise"``) or turn them into NaN in place (``"nan"``).

    Infinity is never a measurement: an overflow upstream, a division by zero, a log of zero. It
    also passes every NaN check and then breaks training (NaN losses, singular matrices). Returns
    how many cells were infinite.
    """
    if nonfinite not in NONFINITE:
        raise ValueError(f"nonfinite must be one of {NONFINITE}, got {nonfinite!r}.")
    infinite = np.isinf(values)
    n_inf = int(infinite.sum())
    if n_inf and nonfinite == "raise":
        i, j = np.argwhere(infinite)[0]
        raise ValueError(
            f"'{path}' has {n_inf} infinite value(s) (inf, -inf, or beyond float32's range of "
            f"+-3.4e38), first at line {row_offset + i}: {row_kind} '{row_names[i]}', {col_kind} "
            f"'{col_names[j]}'. Fix them at the source, or read with nonfinite='nan' to treat them "
            "as missing values (then omixgan.pp.impute_mean)."
        )
    values[infinite] = np.nan
    return n_inf


def check_unique(names, path: Path, kind: str) -> None:
    names = pd.Index(names)
    if names.has_duplicates:
        dup = names[names.duplicated()].unique()
        shown = ", ".join(f"'{d}'" for d in dup[:5])
        more = f" and {len(dup) - 5} more" if len(dup) > 5 else ""
        raise ValueError(f"duplicated {kind} names in '{path}': {shown}{more}.")


def check_no_empty_names(names, path: Path, kind: str, where: str) -> None:
    empty = [k for k, name in enumerate(names) if not name]
    if empty:
        raise ValueError(
            f"'{path}': {len(empty)} empty {kind} name(s) in {where} (first at position "
            f"{empty[0] + 1}); every {kind} needs a name."
        )


def check_no_all_nan_feature(X: np.ndarray, feature_names, path: Path, feature_axis: int) -> None:
    all_nan = np.isnan(X).all(axis=1 - feature_axis)
    if all_nan.any():
        bad = np.asarray(feature_names)[all_nan]
        shown = ", ".join(f"'{b}'" for b in bad[:5])
        raise ValueError(
            f"{all_nan.sum()} feature(s) in '{path}' have no value in any sample: {shown}. "
            "Remove them before reading; they carry no information."
        )


def _strip_trailing_separator(
    header: list[str], rows: list[list[str]]
) -> tuple[list[str], list[list[str]]]:
    """Drop one empty last field from the header, and from every row when every row has one.

    An empty last field in the header is a trailing separator: a column cannot be nameless. In
    the rows it could be a missing value, so it is dropped only when every row ends in one (a
    column with no value at all).
    """
    if len(header) > 1 and header[-1] == "":
        header = header[:-1]
    if rows and all(len(row) > 1 and row[-1] == "" for row in rows):
        rows = [row[:-1] for row in rows]
    return header, rows


def parse_matrix(
    path: Path,
    sep: str | None,
    *,
    row_kind: str,
    col_kind: str,
    nonfinite: str = "raise",
    context: str = "",
    preferred: str = "\t",
):
    """Parse a table whose first column holds row names and whose header holds column names.

    The header may be one field shorter than the data rows (R's ``write.table``) or of equal
    length (its first field then labels the row-name column and is dropped). ``sep=None``
    recognises tab, comma or semicolon; a given ``sep`` that does not fit the data is an error
    naming the separator that does (``context`` says why that one was expected).

    Returns ``(values float32 [rows, cols], row_names, col_names, n_infinite)``.
    """
    lines = read_lines(path)
    if len(lines) < 2:
        raise ValueError(
            f"'{path}' has {len(lines)} line(s); expected a header and at least one data row."
        )
    sep = detect_separator(lines, path, sep, preferred=preferred, context=context)
    blank = [k for k, line in enumerate(lines[1:], start=2) if not line.strip()]
    if blank:
        raise ValueError(
            f"'{path}', line {blank[0]} is empty; remove empty lines between data rows."
        )
    header, *rows = _split_all(lines, sep)
    header, rows = _strip_trailing_separator(header, rows)
    n_fields = len(rows[0])
    if n_fields < 2:
        raise ValueError(
            f"'{path}', line 2 has a single field at {separator_name(sep)}s: no values. "
            f"Is the separator right (expected {separator_name(sep)})?"
        )
    if len(header) == n_fields - 1:
        col_names = header
        if header[0].lower() in CORNER_LABELS:
            raise ValueError(
                f"'{path}': the header has {len(header)} fields and the data rows {n_fields}, so "
                f"every header field should name a {col_kind}, but the first is '{header[0]}', "
                f"which looks like a label of the {row_kind}-name column: then one {col_kind} name "
                "is missing and the columns would shift. Add the missing name."
            )
    elif len(header) == n_fields:
        if len(rows) == 1 and not _looks_like_corner(header[0]):
            raise ValueError(
                f"'{path}': with a single data row, a header as long as the row is ambiguous: "
                f"either '{header[0]}' labels the {row_kind}-name column, or the row lacks a value "
                f"and every value would shift. Name that column '' or 'id' if it is a label, or "
                f"write the header without it (one {col_kind} name per value)."
            )
        col_names = header[1:]
    else:
        raise ValueError(
            f"'{path}': the header has {len(header)} fields but line 2 has {n_fields} (split at "
            f"{separator_name(sep)}s); expected the header to hold one name per column, with or "
            f"without a leading field for the {row_kind} names."
        )
    for lineno, fields in enumerate(rows, start=2):
        if len(fields) != n_fields:
            raise ValueError(
                f"'{path}', line {lineno}: {len(fields)} fields, expected {n_fields} "
                f"(one {row_kind} name and {len(col_names)} values, "
                f"{separator_name(sep)}-separated)."
            )
    cells = np.asarray(rows, dtype=object).astype(str)
    row_names = list(cells[:, 0])
    check_no_empty_names(col_names, path, col_kind, "the header")
    check_no_empty_names(row_names, path, row_kind, "the first column")
    check_unique(col_names, path, col_kind)
    check_unique(row_names, path, row_kind)
    values = cells_to_float(cells[:, 1:], path, row_names, col_names, 2, row_kind, col_kind)
    n_inf = handle_nonfinite(values, path, row_names, col_names, 2, row_kind, col_kind, nonfinite)
    return values, row_names, col_names, n_inf
