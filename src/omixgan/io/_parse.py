"""Parsing of delimited numeric tables with errors that name the file, line, feature and sample."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

#: Cell values read as missing (R's ``write.table`` writes ``NA``).
NA_TOKENS = ("", "NA", "NaN", "nan", "NAN", "N/A", "na", "null", "NULL")


def check_readable(path: Path, what: str = "file") -> None:
    """Raise a clear error when ``path`` is missing, not a file or not readable."""
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: '{path}'.")
    if not path.is_file():
        raise IsADirectoryError(f"expected a {what}, got a directory: '{path}'.")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"{what} is not readable (permission denied): '{path}'.")


def read_lines(path: Path) -> list[str]:
    """All non-empty lines of a text file, with decoding errors reported by file."""
    check_readable(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"'{path}' is not a UTF-8 text file (byte {err.start} cannot be decoded); "
            "expected a tab- or comma-separated table."
        ) from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def split_row(line: str, sep: str) -> list[str]:
    return [field.strip().strip('"') for field in line.split(sep)]


def cells_to_float(cells: np.ndarray, path: Path, row_names, col_names, row_offset: int, row_kind: str, col_kind: str) -> np.ndarray:
    """Convert a 2-D array of strings to float32, naming the first non-numeric cell on failure.

    ``row_offset`` is the 1-based line number of the first data row, so errors point into the file.
    """
    cells = np.where(np.isin(cells, NA_TOKENS), "nan", cells)
    try:
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
                f"Missing values must be empty or one of {', '.join(repr(t) for t in NA_TOKENS[1:4])}."
            )
    raise AssertionError("unreachable: a cell failed to convert but none was found")  # pragma: no cover


def check_unique(names, path: Path, kind: str) -> None:
    names = pd.Index(names)
    if names.has_duplicates:
        dup = names[names.duplicated()].unique()
        shown = ", ".join(f"'{d}'" for d in dup[:5])
        more = f" and {len(dup) - 5} more" if len(dup) > 5 else ""
        raise ValueError(f"duplicated {kind} names in '{path}': {shown}{more}.")


def check_no_all_nan_feature(X: np.ndarray, feature_names, path: Path, feature_axis: int) -> None:
    all_nan = np.isnan(X).all(axis=1 - feature_axis)
    if all_nan.any():
        bad = np.asarray(feature_names)[all_nan]
        shown = ", ".join(f"'{b}'" for b in bad[:5])
        raise ValueError(
            f"{all_nan.sum()} feature(s) in '{path}' have no value in any sample: {shown}. "
            "Remove them before reading; they carry no information."
        )


def parse_matrix(path: Path, sep: str, *, row_kind: str, col_kind: str):
    """Parse a table whose first column holds row names and whose header holds column names.

    The header may be one field shorter than the data rows (R's ``write.table``) or of equal
    length (its first field then labels the row-name column and is dropped).

    Returns ``(values float32 [rows, cols], row_names, col_names)``.
    """
    lines = read_lines(path)
    if len(lines) < 2:
        raise ValueError(f"'{path}' has {len(lines)} line(s); expected a header and at least one data row.")
    header = split_row(lines[0], sep)
    first = split_row(lines[1], sep)
    if len(header) == len(first) - 1:
        col_names = header
    elif len(header) == len(first):
        col_names = header[1:]
    else:
        raise ValueError(
            f"'{path}': the header has {len(header)} fields but line 2 has {len(first)}; "
            "expected the header to hold one name per column, with or without a leading field "
            f"for the {row_kind} names. Is the separator right (got {sep!r})?"
        )
    n_fields = len(col_names) + 1
    rows = []
    for lineno, line in enumerate(lines[1:], start=2):
        fields = split_row(line, sep)
        if len(fields) != n_fields:
            raise ValueError(
                f"'{path}', line {lineno}: {len(fields)} fields, expected {n_fields} "
                f"(one {row_kind} name and {len(col_names)} values)."
            )
        rows.append(fields)
    cells = np.asarray(rows, dtype=object).astype(str)
    row_names = list(cells[:, 0])
    check_unique(col_names, path, col_kind)
    check_unique(row_names, path, row_kind)
    values = cells_to_float(cells[:, 1:], path, row_names, col_names, 2, row_kind, col_kind)
    return values, row_names, col_names
