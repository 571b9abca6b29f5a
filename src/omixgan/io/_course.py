"""Reader for the course's folder format (mRNA.txt, meth.txt, prot.txt, clusters.txt)."""

from __future__ import annotations

import warnings
from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from .._utils import DATA_TYPE_KEY, make_mudata, name_differences
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

#: File name in the course folder -> modality name in the MuData.
COURSE_FILES = {"mRNA.txt": "mrna", "meth.txt": "meth", "prot.txt": "prot"}
LABELS_FILE = "clusters.txt"


#: What the course format's tab-separated files are; named in errors about other separators.
COURSE_CONTEXT = " as the course format's files are"

#: Row names a labels line may start with (R's ``write.table`` of a one-row table).
LABEL_ROW_NAMES = {"x", "cluster", "clusters", "label", "labels", "class", "classes", "group", "v1"}


def read_course(
    path: str | Path, *, labels_key: str = "cluster", nonfinite: str = "raise"
) -> md.MuData:
    """Read a course data folder into a :class:`~mudata.MuData`.

    The folder holds tab-separated files with **features in rows and samples in columns**, whose
    header row holds the sample names and is one field shorter than the data rows (as R's
    ``write.table`` writes): ``mRNA.txt``, ``meth.txt`` (methylation beta values in [0, 1]),
    ``prot.txt`` and ``clusters.txt`` (a header of sample names and one row of class labels).
    Any non-empty subset of the three omics files may be present; ``clusters.txt`` is optional.

    Parameters
    ----------
    path
        The folder.
    labels_key
        Name of the ``.obs`` column that receives the class labels of ``clusters.txt``.
    nonfinite
        ``"raise"`` (default): an infinite value (``inf``, ``-inf``, or a number beyond float32's
        range) is an error naming its file, feature and sample; infinity is never a measurement.
        ``"nan"``: read it as a missing value, counted in ``.uns["n_nonfinite"]`` and in the
        missing-value warning (fill with :func:`omixgan.pp.impute_mean`).

    Returns
    -------
    MuData with modalities ``mrna``, ``meth``, ``prot`` (those present), samples as ``obs_names``,
    features as ``var_names``, values as float32 in ``.X``, and ``obs[labels_key]``
    (categorical) on the MuData and on every modality. Missing values (``NA``) are kept as NaN and
    reported in a warning and in ``mdata[mod].uns["n_missing"]``; nothing is filled. The files
    are tab-separated; a UTF-8 byte-order mark, Windows line ends and a trailing tab are read
    correctly, anything ambiguous is an error.

    Raises
    ------
    FileNotFoundError
        The folder or every omics file is missing.
    ValueError
        A file is malformed; the message names the file and the line, sample or feature at fault:
        another separator than tab, a header that does not fit the rows, sample names that
        differ between files, duplicated or empty sample or feature names, non-numeric or
        infinite cells, a feature with no value at all, ``clusters.txt`` with a label too many or
        too few (never shifted), methylation values outside [0, 1].
    """
    if nonfinite not in NONFINITE:
        raise ValueError(f"nonfinite must be one of {NONFINITE}, got {nonfinite!r}.")
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"course data folder not found: '{folder}'.")
    if not folder.is_dir():
        raise NotADirectoryError(f"expected a course data folder, got a file: '{folder}'.")
    present = [name for name in COURSE_FILES if (folder / name).exists()]
    if not present:
        raise FileNotFoundError(
            f"no omics file in '{folder}': expected at least one of {', '.join(COURSE_FILES)}."
        )

    modalities: dict[str, ad.AnnData] = {}
    reference_file, reference_samples = None, None
    for name in present:
        file = folder / name
        values, features, samples, n_inf = parse_matrix(
            file,
            "\t",
            row_kind="feature",
            col_kind="sample",
            nonfinite=nonfinite,
            context=COURSE_CONTEXT,
        )
        check_no_all_nan_feature(values, features, file, feature_axis=0)
        if reference_samples is None:
            reference_file, reference_samples = file, samples
        else:
            _check_same_samples(samples, file, reference_samples, reference_file)
        if name == "meth.txt":
            _check_beta_values(values, features, samples, file)
        adata = ad.AnnData(
            X=np.ascontiguousarray(values.T),
            obs=pd.DataFrame(index=pd.Index(samples, name=None)),
            var=pd.DataFrame(index=pd.Index(features, name=None)),
        )
        adata = adata[reference_samples].copy() if samples != reference_samples else adata
        if name == "meth.txt":  # the course format declares beta values in this file
            adata.uns[DATA_TYPE_KEY] = "beta"
        _report_missing(adata, COURSE_FILES[name], file, n_inf)
        modalities[COURSE_FILES[name]] = adata

    mdata = make_mudata(modalities)
    labels_file = folder / LABELS_FILE
    if labels_file.exists():
        labels = _read_clusters(labels_file, reference_samples, reference_file)
        mdata.obs[labels_key] = labels.loc[mdata.obs_names].to_numpy()
        mdata.obs[labels_key] = mdata.obs[labels_key].astype("category")
        for adata in mdata.mod.values():
            adata.obs[labels_key] = mdata.obs.loc[adata.obs_names, labels_key]
    return mdata


def _check_same_samples(samples, file, reference, reference_file) -> None:
    if set(samples) == set(reference):
        return
    parts = name_differences(
        samples, reference, f"only in '{file.name}'", f"only in '{reference_file.name}'"
    )
    raise ValueError(
        f"sample names differ between '{reference_file}' and '{file}': {'; '.join(parts)}. "
        "In the course format every file holds the same samples. To combine files with partly "
        "overlapping samples, read each with omixgan.read_table and build a MuData."
    )


def _check_beta_values(values, features, samples, file) -> None:
    outside = (values < 0) | (values > 1)
    if outside.any():
        i, j = np.argwhere(outside)[0]
        raise ValueError(
            f"methylation beta values must lie in [0, 1]; '{file}' has {outside.sum()} outside, "
            f"first at feature '{features[i]}', sample '{samples[j]}': {values[i, j]:g}. "
            "If these are M-values, convert them with omixgan.pp.inverse_logit or rename the file."
        )


def _report_missing(adata: ad.AnnData, modality: str, file: Path, n_infinite: int = 0) -> None:
    n_missing = int(np.isnan(adata.X).sum())
    adata.uns["n_missing"] = n_missing
    adata.uns["n_nonfinite"] = int(n_infinite)
    if n_missing:
        infinite = f", of which {n_infinite} were infinite" if n_infinite else ""
        warnings.warn(
            f"modality '{modality}' ('{file}') has {n_missing} missing values "
            f"({n_missing / adata.X.size:.2%}){infinite}; they are kept as NaN. Models refuse NaN: "
            "see "
            "omixgan.pp.impute_mean or drop the samples/features.",
            stacklevel=3,
        )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _starts_with_row_name(labels: list[str], n_names: int) -> bool:
    """Whether a labels line of ``n_names + 1`` fields (or + 2, with a trailing tab) starts with
    a row name: a known one (``x``, ``cluster``, ...), or text before numeric labels."""
    if len(labels) not in (n_names + 1, n_names + 2) or not labels:
        return False
    first, rest = labels[0], [lab for lab in labels[1:] if lab not in ("", "NA")]
    if first.lower() in LABEL_ROW_NAMES:
        return True
    return (
        bool(rest)
        and all(_is_number(lab) for lab in rest)
        and not _is_number(first)
        and first not in rest
    )


def _read_clusters(file: Path, samples, samples_file: Path) -> pd.Series:
    """Labels of ``clusters.txt``: a header of sample names and one line of labels, matched by
    position only when the counts agree exactly (a label too many or too few is an error, never
    a shift). The labels line may start with a row name (R's ``write.table``) only when that name
    is recognisably one: a known row label, or text before numeric labels."""
    lines = read_lines(file)
    if len(lines) != 2:
        raise ValueError(
            f"'{file}' has {len(lines)} lines; expected 2: a header of sample names and one row of "
            "labels."
        )
    detect_separator(lines, file, "\t", context=COURSE_CONTEXT)
    names, labels = split_row(lines[0], "\t"), split_row(lines[1], "\t")
    if len(names) > 1 and names[-1] == "":  # a trailing tab ends the header: no name there
        names = names[:-1]
    full_header = bool(names) and names[0] == ""  # an empty field above a row name
    if full_header:
        names = names[1:]
    if full_header or _starts_with_row_name(labels, len(names)):
        labels = labels[1:]
    if len(labels) == len(names) + 1 and labels[-1] == "":
        labels = labels[:-1]  # a trailing tab after the labels
    if len(labels) == len(names) + 1:
        raise ValueError(
            f"'{file}': {len(names)} sample names in the header but {len(labels)} labels on "
            f"line 2: one label too many (its first field '{labels[0]}' is not recognisably a row "
            "name). Labels are matched to samples by position, so they would shift; fix the file."
        )
    if len(labels) != len(names):
        which = "too few" if len(labels) < len(names) else "too many"
        raise ValueError(
            f"'{file}': {len(names)} sample names in the header but {len(labels)} labels on line 2 "
            f"({abs(len(names) - len(labels))} {which}). Labels are matched to samples by "
            "position, so "
            "every sample needs exactly one; fix the file."
        )
    check_no_empty_names(names, file, "sample", "the header")
    check_unique(names, file, "sample")
    if len(names) != len(samples):
        raise ValueError(
            f"'{file}' labels {len(names)} samples but '{samples_file}' has {len(samples)}; "
            "every sample needs exactly one label."
        )
    _check_same_samples(names, file, samples, samples_file)
    missing = [n for n, lab in zip(names, labels) if lab in ("", "NA")]
    if missing:
        raise ValueError(f"'{file}': no label for sample(s) {', '.join(missing[:5])}.")
    return pd.Series(labels, index=names, name="label")
