"""Readers for one modality, or the labels, from a user's delimited table."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import anndata as ad
import numpy as np
import pandas as pd

from .._utils import DATA_TYPE_KEY
from ._course import _check_beta_values, _report_missing
from ._parse import (
    NONFINITE,
    check_no_all_nan_feature,
    check_no_empty_names,
    check_unique,
    detect_separator,
    parse_matrix,
    read_lines,
    split_row,
)

_ORIENTATIONS = ("samples_in_rows", "samples_in_columns")


def _preferred_separator(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    return "," if ".csv" in suffixes else "\t"


def read_table(
    path: str | Path,
    *,
    orientation: Literal["samples_in_rows", "samples_in_columns"],
    sep: str | None = None,
    beta_values: bool = False,
    nonfinite: str = "raise",
) -> ad.AnnData:
    """Read one modality from a CSV/TSV table into an :class:`~anndata.AnnData`.

    The first column holds the row names and the header row the column names (the header may
    be one field shorter than the data rows, as R's ``write.table`` writes it).

    Parameters
    ----------
    path
        The file.
    orientation
        ``"samples_in_rows"`` (one sample per line, as most CSV exports) or
        ``"samples_in_columns"`` (one feature per line, as the course files). Required, because
        guessing it from the shape goes wrong exactly when there are as many samples as features.
    sep
        Field separator. None (default): recognised from the data (tab, comma or semicolon,
        whichever splits every row into the same number of fields; ``","`` first for ``.csv``
        files, a tab first otherwise). A given ``sep`` that does not fit the data is an error
        that names the one that does.
    beta_values
        Check that every value lies in [0, 1], as methylation beta values must, and record the
        declaration in ``.uns["omixgan_data_type"]`` (read by the baselines). Models decide from
        the modality's name (``meth``, ...) or their ``data_types`` argument.
    nonfinite
        ``"raise"`` (default): an infinite value is an error naming its feature and sample;
        ``"nan"``: read it as missing, counted in ``.uns["n_nonfinite"]``.

    Returns
    -------
    AnnData with samples as ``obs_names``, features as ``var_names``, float32 values in ``.X``.
    Missing values stay NaN and are counted in ``.uns["n_missing"]``.

    Raises
    ------
    ValueError
        A malformed file, named with the line, feature or sample at fault: a separator other
        than ``sep``, a header that does not fit the rows, duplicated or empty names,
        non-numeric or infinite cells, a feature without any value.

    Examples
    --------
    Samples present in only some modalities are kept; MuData aligns modalities by sample name:

    >>> import mudata as md, omixgan as og
    >>> mdata = md.MuData(
    ...     {  # doctest: +SKIP
    ...         "mrna": og.read_table("mrna.csv", orientation="samples_in_rows"),
    ...         "prot": og.read_table("prot.csv", orientation="samples_in_rows"),
    ...     }
    ... )
    """
    if orientation not in _ORIENTATIONS:
        raise ValueError(f"orientation must be one of {_ORIENTATIONS}, got {orientation!r}.")
    if nonfinite not in NONFINITE:
        raise ValueError(f"nonfinite must be one of {NONFINITE}, got {nonfinite!r}.")
    file = Path(path)
    kinds = ("sample", "feature") if orientation == "samples_in_rows" else ("feature", "sample")
    values, rows, cols, n_inf = parse_matrix(
        file,
        sep,
        row_kind=kinds[0],
        col_kind=kinds[1],
        nonfinite=nonfinite,
        preferred=_preferred_separator(file),
    )
    if orientation == "samples_in_rows":
        samples, features = rows, cols
        check_no_all_nan_feature(values, features, file, feature_axis=1)
        X = values
    else:
        features, samples = rows, cols
        check_no_all_nan_feature(values, features, file, feature_axis=0)
        X = np.ascontiguousarray(values.T)
    if beta_values:
        _check_beta_values(X.T, features, samples, file)
    adata = ad.AnnData(
        X=X, obs=pd.DataFrame(index=pd.Index(samples)), var=pd.DataFrame(index=pd.Index(features))
    )
    if beta_values:
        adata.uns[DATA_TYPE_KEY] = "beta"
    _report_missing(adata, file.stem, file, n_inf)
    return adata


def read_labels(path: str | Path, *, sep: str | None = None, column: str | int = 0) -> pd.Series:
    """Read per-sample labels (a class, a subtype) from a table with sample names first.

    Parameters
    ----------
    path
        The file, e.g. a CSV with a header ``,subtype`` and one ``sample,label`` line per sample.
    sep
        Field separator; None: recognised from the data (see :func:`read_table`).
    column
        Which label column to return: its header name or its position among the label columns.

    Returns
    -------
    A categorical :class:`pandas.Series` indexed by sample name, named after the column.
    """
    file = Path(path)
    lines = read_lines(file)
    if len(lines) < 2:
        raise ValueError(
            f"'{file}' has {len(lines)} line(s); expected a header and one line per sample."
        )
    sep = detect_separator(lines, file, sep, preferred=_preferred_separator(file))
    header = split_row(lines[0], sep)
    rows = [split_row(line, sep) for line in lines[1:]]
    n_fields = len(rows[0])
    columns = header[1:] if len(header) == n_fields else header
    for lineno, row in enumerate(rows, start=2):
        if len(row) != n_fields:
            raise ValueError(f"'{file}', line {lineno}: {len(row)} fields, expected {n_fields}.")
    if isinstance(column, str):
        if column not in columns:
            raise KeyError(f"column {column!r} not in '{file}'; it has {columns}.")
        position = columns.index(column)
    else:
        if not 0 <= column < len(columns):
            raise IndexError(
                f"column {column} out of range: '{file}' has {len(columns)} label column(s)."
            )
        position = column
    names = [row[0] for row in rows]
    check_no_empty_names(names, file, "sample", "the first column")
    check_unique(names, file, "sample")
    labels = pd.Series(
        [row[1 + position] for row in rows], index=names, name=columns[position] or "label"
    )
    empty = labels.index[labels.isin(["", "NA"])]
    if len(empty):
        raise ValueError(f"'{file}': no label for sample(s) {', '.join(empty[:5])}.")
    return labels.astype("category")
