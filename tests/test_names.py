"""Names that mean one thing: QC reasons named by their value, no leaked helper names in the
public namespaces, the ledger's ``counted`` apart from the clone-size ``unit``."""

from __future__ import annotations

import importlib
import warnings

import pytest

import tcrtrack as tt
from tcrtrack import _qc

NAMESPACES = [
    "tcrtrack",
    "tcrtrack.cohort",
    "tcrtrack.datasets",
    "tcrtrack.errors",
    "tcrtrack.io",
    "tcrtrack.pl",
    "tcrtrack.pp",
    "tcrtrack.report",
    "tcrtrack.schema",
    "tcrtrack.tl",
]


def test_every_reason_constant_is_named_by_its_value():
    constants = {
        name: value
        for name, value in vars(_qc).items()
        if name.isupper() and isinstance(value, str) and value in _qc.DESCRIPTIONS
    }
    assert len(constants) == len(_qc.DESCRIPTIONS)
    wrong = {n: v for n, v in constants.items() if n != v.upper()}
    assert wrong == {}


@pytest.mark.parametrize("name", NAMESPACES)
def test_namespace_shows_only_its_public_names(name):
    module = importlib.import_module(name)
    shown = sorted(n for n in dir(module) if not n.startswith("_"))
    if hasattr(module, "__all__"):
        assert shown == sorted(n for n in module.__all__ if not n.startswith("_"))
    else:  # tt.schema: constants only
        assert shown and all(n.isupper() for n in shown)
    for leak in ("Any", "TYPE_CHECKING", "importlib", "annotations", "Final"):
        assert leak not in shown


def test_dir_of_tcrtrack_lists_the_lazy_namespaces_before_import():
    assert {"io", "pp", "tl", "pl", "report", "datasets", "qc"} <= set(dir(tt))


def test_ledger_counts_contigs_or_cells_not_clone_size_units():
    contigs = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="p")
    cc = tt.tl.clonotypes(contigs)
    ledger = cc.qc.to_frame()
    assert "counted" in ledger.columns and "unit" not in ledger.columns
    assert set(ledger["counted"]) <= {"contigs", "cells", "rows"}
    assert cc.unit == "cells"


def test_counts_is_a_deprecated_alias_of_matrix():
    cc = tt.tl.clonotypes(tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="p"))
    with pytest.warns(DeprecationWarning, match="CloneCounts.counts is renamed CloneCounts.matrix"):
        old = cc.counts
    assert old is cc.matrix


def test_cell_totals_are_a_declared_field_that_select_keeps():
    a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    cc = tt.tl.clonotypes(tt.pp.concat([a, b]))
    assert cc.n_cells is not None
    naive = cc.cells.groupby("sample", observed=True)["cell_id"].nunique()
    assert cc.totals().to_dict() == naive.to_dict()
    sub = cc.select(["b"])
    assert sub.n_cells is not None and list(sub.n_cells) == [int(naive["b"])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert int(sub.totals()["b"]) == int(naive["b"])
