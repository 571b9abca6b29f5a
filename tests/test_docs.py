"""The documentation builds without a warning, and every API page shows its docstring.

The first test builds the HTML once (about 20-40 s on a CPU); the others check what a reader sees:
no raw directives, the docstring's text and every parameter on each page listed in docs/api.md.
"""

from __future__ import annotations

import html
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
pytestmark = pytest.mark.skipif(
    not (DOCS / "conf.py").exists(), reason="docs sources not present (installed package)"
)


def _sphinx(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_nb")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(out / "doctrees"),
            *extra,
            str(src),
            str(out / "html"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    result = _sphinx(DOCS, out)
    return result, out / "html"


def _api_entries() -> list[str]:
    """Every object listed in an autosummary block of docs/api.md, as ``omixgan.<name>``."""
    text = (DOCS / "api.md").read_text()
    blocks = re.findall(r"```\{eval-rst\}(.*?)```", text, flags=re.DOTALL)
    names = []
    for block in blocks:
        for line in block.splitlines():
            if line.startswith("   ") and not line.strip().startswith(":"):
                names.append("omixgan." + line.strip().lstrip("~"))
    return names


def _resolve(name: str):
    module, attr = name.rsplit(".", 1)
    return getattr(importlib.import_module(module), attr)


def _plain(rst: str) -> str:
    """What a line of reST looks like once rendered: roles, literals and emphasis stripped."""
    rst = re.sub(r":\w+:`~[\w.]*?\.?(\w+)`", r"\1", rst)  # :class:`~a.b.C` -> C
    rst = re.sub(r":\w+:`([^`]+)`", r"\1", rst)
    rst = rst.replace("``", "").replace("`", "").replace("**", "").replace("*", "")
    return " ".join(rst.split())


def _page_text(path: Path) -> str:
    raw = path.read_text()
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.DOTALL)
    text = html.unescape(re.sub(r"<[^>]+>", " ", raw))
    for fancy, plain in (
        ("\u2019", "'"),
        ("\u2018", "'"),
        ("\u201c", '"'),
        ("\u201d", '"'),
        ("\u2013", "--"),
        ("\u2014", "---"),
    ):
        text = text.replace(fancy, plain)
    return " ".join(text.split())


def test_docs_build_without_warnings(built):
    result, _ = built
    assert result.returncode == 0, result.stderr[-5000:]


def test_api_lists_objects():
    names = _api_entries()
    assert len(names) > 40
    assert {"omixgan.models.OmicsGAN", "omixgan.tl.translate", "omixgan.pl.history"} <= set(names)


@pytest.mark.parametrize("name", _api_entries())
def test_api_page_shows_docstring_and_parameters(built, name):
    _, out = built
    page = out / "generated" / f"{name}.html"
    assert page.exists(), f"no API page for {name}"
    text = _page_text(page)
    assert ".. auto" not in text, f"{name}: the page shows a raw directive instead of the docstring"
    obj = _resolve(name)
    doc = inspect.getdoc(obj)
    assert doc, f"{name} has no docstring"
    # compared on letters and digits only: markup and tags change spaces and punctuation
    first = re.sub(r"\W", "", _plain(doc.split("\n\n")[0]))[:60]
    assert first in re.sub(r"\W", "", text), (
        f"{name}: the page lacks its docstring's first paragraph"
    )
    target = obj.__init__ if inspect.isclass(obj) else obj
    for param in inspect.signature(target).parameters:
        if param not in {"self", "cls", "args", "kwargs"}:
            assert re.search(rf"\b{param}\b", text), (
                f"{name}: parameter {param!r} is not on the page"
            )


def test_class_pages_hide_scvi_internals(built):
    _, out = built
    text = _page_text(out / "generated" / "omixgan.models.CrossModalVAE.html")
    for own in ("setup_mudata", "translate", "train", "save", "load"):
        assert own in text
    for internal in (
        "convert_legacy_save",
        "register_manager",
        "deregister_manager",
        "get_anndata_manager",
    ):
        assert internal not in text, f"{internal} (an scvi-tools internal) is on the class page"


def test_missing_docstring_fails_the_build(tmp_path):
    """A function without a docstring turns into a warning, so ``sphinx -W`` fails."""
    src = tmp_path / "src"
    src.mkdir()
    (tmp_path / "omixgan_docs_probe.py").write_text(
        'def documented():\n    """Has text."""\n\n\ndef bare():\n    pass\n'
    )
    (src / "conf.py").write_text(
        "import sys\n"
        f"sys.path[:0] = [{str(tmp_path)!r}, {str(DOCS)!r}]\n"
        "import conf as omixgan_conf\n"
        "extensions = ['sphinx.ext.autodoc', 'sphinx.ext.napoleon']\n"
        "def setup(app):\n"
        "    omixgan_conf._MISSING.clear()\n"
        "    omixgan_conf._CHECKED_PREFIX = 'omixgan_docs_probe.'\n"
        "    app.connect('autodoc-process-docstring', omixgan_conf.check_docstring)\n"
        "    app.connect('build-finished', omixgan_conf.report_missing)\n"
    )
    (src / "index.rst").write_text(
        "Probe\n=====\n\n.. autofunction:: omixgan_docs_probe.documented\n\n.. autofunction:: "
        "omixgan_docs_probe.bare\n"
    )
    result = _sphinx(src, tmp_path / "out", "-D", "root_doc=index")
    assert result.returncode != 0
    assert "no docstring: function omixgan_docs_probe.bare" in result.stderr
    assert "documented" not in result.stderr.replace("omixgan_docs_probe.bare", "")


def test_free_form_returns_keeps_the_list():
    sys.path.insert(0, str(DOCS))
    try:
        import conf
    finally:
        sys.path.remove(str(DOCS))
    lines = [
        "Do it.",
        "",
        "Returns",
        "-------",
        "None. Writes:",
        "- ``a``: first",
        "  continued",
        "- ``b``: second",
        "Tail.",
    ]
    conf.free_form_returns(None, "function", "x", None, {}, lines)
    assert lines[:3] == ["Do it.", "", ""]
    body = lines[lines.index(":returns:") + 1 :]
    assert body == [
        "    None. Writes:",
        "",
        "    - ``a``: first",
        "      continued",
        "    - ``b``: second",
        "",
        "    Tail.",
        "",
    ]
    typed = ["Returns", "-------", "DataFrame", "    One row per method."]
    conf.free_form_returns(None, "function", "x", None, {}, typed)
    assert typed == ["Returns", "-------", "DataFrame", "    One row per method."]


def _python_blocks(page: Path) -> list[tuple[str, str]]:
    """(section title, code) of every ```python block of a MyST page, in order."""
    blocks, section = [], ""
    lines = page.read_text().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("## "):
            section = lines[i][3:].strip()
        if lines[i].strip() == "```python":
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            blocks.append((section, "\n".join(lines[i + 1 : j])))
            i = j
        i += 1
    return blocks


@pytest.mark.filterwarnings("ignore")
def test_own_data_page_code_runs(tmp_path, monkeypatch):
    """Every snippet of the "your own data" page runs, on small files with the page's names."""
    import anndata as ad
    import mudata as md
    import numpy as np
    import pandas as pd

    import omixgan as og

    from .conftest import write_course

    rng = np.random.default_rng(0)
    samples = [f"s{i}" for i in range(40)]
    pd.DataFrame(
        rng.normal(size=(40, 6)), index=samples, columns=[f"g{j}" for j in range(6)]
    ).to_csv(tmp_path / "mrna.csv")
    meth = pd.DataFrame(
        rng.uniform(0.05, 0.95, size=(5, 40)), index=[f"cg{j}" for j in range(5)], columns=samples
    )
    meth.to_csv(tmp_path / "meth.tsv", sep="\t")
    prot = pd.DataFrame(
        rng.normal(size=(30, 4)), index=samples[:30], columns=[f"p{j}" for j in range(4)]
    )
    prot.to_csv(tmp_path / "prot.csv")
    # two samples without a label: not in the file
    pd.DataFrame({"subtype": ["a", "b"] * 19}, index=samples[:38]).to_csv(tmp_path / "subtypes.csv")
    mods = {
        "rna": ad.AnnData(rng.normal(size=(20, 3)).astype(np.float32)),
        "prot": ad.AnnData(rng.normal(size=(20, 2)).astype(np.float32)),
    }
    for name, adata in mods.items():
        adata.obs_names = samples[:20]
        adata.write_h5ad(tmp_path / f"{name}.h5ad")
    md.MuData(mods).write(tmp_path / "cohort.h5mu")
    write_course(tmp_path / "dataset_2000samples", n_samples=12)
    monkeypatch.chdir(tmp_path)

    namespace: dict = {}
    blocks = _python_blocks(DOCS / "user_guide" / "own_data.md")
    assert len(blocks) >= 6
    for section, code in blocks:
        if section == "Save and load":  # the page's `model`: one trained on the data at hand
            mdata = namespace["mdata"]
            og.models.CrossModalVAE.setup_mudata(mdata, modalities=["mrna", "prot"])
            namespace["model"] = og.models.CrossModalVAE(mdata, n_models=1, n_latent=2)
            namespace["model"].train(max_epochs=2, progress_bar=False)
        exec(compile(code, f"own_data.md: {section}", "exec"), namespace)
        if section == "From CSV or TSV tables":
            assert {m: a.n_obs for m, a in namespace["mdata"].mod.items()} == {
                "mrna": 40,
                "meth": 40,
                "prot": 30,
            }
        if section == "Labels":
            assert namespace["mdata"].obs["subtype"].isna().sum() == 2
    assert isinstance(namespace["model"], og.models.CrossModalVAE)
