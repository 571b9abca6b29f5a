"""The ``omixgan`` command line: ``omixgan demo`` runs the whole story on the bundled data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _summary(mdata, labels_key: str) -> str:
    lines = [f"{mdata.n_obs} samples, {len(mdata.mod)} modalities"]
    for mod, adata in mdata.mod.items():
        n_missing = adata.uns.get("n_missing", 0)
        lines.append(f"  {mod:<6} {adata.n_obs:>6} samples x {adata.n_vars:>5} features, {n_missing} missing values")
    if labels_key in mdata.obs:
        counts = mdata.obs[labels_key].value_counts().sort_index()
        lines.append(f"  classes ({labels_key}): " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    return "\n".join(lines)


def demo(data: Path | None, out: Path, quick: bool) -> int:
    from . import datasets, read_course

    mdata = read_course(data) if data is not None else datasets.course(n_samples=2000)
    source = f"course folder '{data}'" if data is not None else "bundled course data (2000 samples)"
    print(f"omixgan demo on the {source}")
    print(_summary(mdata, "cluster"))
    out.mkdir(parents=True, exist_ok=True)
    mdata.write(out / "data.h5mu")
    print(f"wrote {out / 'data.h5mu'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="omixgan", description="Deep generative models for multi-omics data.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="run the whole story on the bundled data (or a course-format folder)")
    p_demo.add_argument("--data", type=Path, default=None, help="a course-format folder (default: bundled 2000-sample data)")
    p_demo.add_argument("--out", type=Path, default=Path("omixgan_demo"), help="output folder (default: ./omixgan_demo)")
    p_demo.add_argument("--quick", action="store_true", help="fewer training steps, for a first look")
    args = parser.parse_args(argv)
    try:
        return demo(args.data, args.out, args.quick)
    except (FileNotFoundError, ValueError, KeyError) as err:
        print(f"omixgan: error: {err}", file=sys.stderr)
        return 2
