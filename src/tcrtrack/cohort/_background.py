"""Public clones as background: ``tt.cohort.background`` and ``tt.cohort.pgen``.

A clone found in the infusion product and again in blood is evidence of persistence only if it
is not one that many people make anyway: public clonotypes (seen in many unrelated donors, of
high generation probability) are shared between any two repertoires by convergent
recombination. A store of other donors' repertoires tells them apart.
"""

from __future__ import annotations

import gc
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from tcrtrack.cohort._store import Store, open_store
from tcrtrack.errors import ParameterError


@dataclass(frozen=True, eq=False)
class Background:
    """Sharing with the reference, with and without public clones.

    Attributes
    ----------
    table
        One row per sample other than the reference: ``n_clonotypes``, ``n_shared`` (shared
        with the reference), ``n_public`` (the sample's public clonotypes), ``n_shared_public``
        (shared and public), and the sharing without public clones: ``n_clonotypes_private`` =
        ``n_clonotypes - n_public``, ``n_shared_private`` = ``n_shared - n_shared_public``,
        ``frac_clonotypes_shared_private`` = ``n_shared_private / n_clonotypes_private``
        (beside ``frac_clonotypes_shared`` = ``n_shared / n_clonotypes``).
    clonotypes
        One row per clonotype of the reference found in a sample (as
        :func:`tcrtrack.tl.shared_clonotypes`), with ``n_background_donors`` (patients of the
        store, other than the excluded ones, whose repertoires contain the clonotype),
        ``public`` (``n_background_donors >= public_donors``) and, with ``pgen=True``,
        ``pgen``.
    public_donors
        The k of the definition of public.
    n_donors
        Patients of the store counted as background (the store's patients minus ``excluded``).
    excluded
        The patients not counted (the patient under study).
    n_background_donors
        Every clonotype of the counts (index: its label) and its ``n_background_donors``.
    """

    table: pd.DataFrame
    clonotypes: pd.DataFrame
    public_donors: int
    n_donors: int
    excluded: tuple[str, ...]
    n_background_donors: pd.Series

    def describe(self) -> str:
        """One line stating the definition."""
        skip = f", not counting {', '.join(self.excluded)}" if self.excluded else ""
        return (
            f"public = found in at least {self.public_donors} of the store's "
            f"{self.n_donors} background donors{skip}"
        )

    def __repr__(self) -> str:
        n = int(self.clonotypes["public"].sum())
        return (
            f"Background({len(self.clonotypes)} shared clonotypes, {n} public; {self.describe()})"
        )

    def display_table(self) -> pd.DataFrame:
        """The readable sharing with and without public clonotypes, one row per sample:
        ``shared`` (clonotypes shared with the reference), ``public`` (of them, public) and
        ``shared without public`` (``n_shared_private/n_clonotypes_private = percent``), as
        ``tcrtrack share --background`` prints it and the report shows it."""
        from tcrtrack._display import count_of

        t = self.table
        view = pd.DataFrame(
            {
                "shared": [f"{int(v):,}" for v in t["n_shared"]],
                "public": [f"{int(v):,}" for v in t["n_shared_public"]],
                "shared without public": [
                    count_of(int(a), int(b))
                    for a, b in zip(t["n_shared_private"], t["n_clonotypes_private"], strict=True)
                ],
            },
            index=t.index,
        )
        return view

    def _repr_html_(self) -> str:
        return f"<p><b>{self!r}</b></p>" + self.table.to_html()


def background(
    counts: Any,
    *,
    reference: str,
    store: Store | str | os.PathLike[str],
    public_donors: int = 2,
    exclude_patients: Sequence[str] | None = None,
    samples: Sequence[str] | None = None,
    pgen: bool = False,
    scheduler: str | None = None,
    workers: int | None = None,
) -> Background:
    """Flag the public clones among those a patient's samples share with the reference.

    Every clonotype of ``counts`` is looked up in ``store`` (with the clonotype definition of
    ``counts``: nucleotides or amino acids, genes or not); ``n_background_donors`` is the
    number of the store's patients whose repertoires contain it, not counting
    ``exclude_patients``; a clonotype is ``public`` when that number is at least
    ``public_donors`` (k). The sharing is then given with and without public clonotypes.

    Parameters
    ----------
    counts
        The patient's :class:`tcrtrack.tl.CloneCounts` (one chain: the store's locus).
    reference
        The reference sample (the infusion product).
    store
        A clonotype store of other donors (:func:`build`).
    public_donors
        k: public = found in at least k background donors (default 2).
    exclude_patients
        Patients of the store not counted as background. Default: the patients of the store
        samples named like a sample of ``counts`` (the patient's own repertoires, if the
        store holds them).
    pgen
        Add each shared clonotype's generation probability (:func:`pgen`).
    scheduler, workers
        As for :func:`build`.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> sheet, data = os.path.join(folder, "sheet.tsv"), tt.datasets.path("pbmc3_t_filtered")
    >>> with open(sheet, "w") as fh:  # the same file as two donors' repertoires
    ...     _ = fh.write(f"patient\\ttimepoint\\tsample\\tpath\\nD1\\t0\\td1\\t{data}\\n"
    ...                  f"D2\\t0\\td2\\t{data}\\n")
    >>> store = tt.cohort.build(sheet, os.path.join(folder, "s"), workers=1).store
    >>> a, b = (tt.io.read_10x(data, sample=x) for x in ("a", "b"))
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> bg = tt.cohort.background(counts, reference="a", store=store, workers=1)
    >>> bool(bg.clonotypes["public"].all()), int(bg.table.loc["b", "n_shared_private"])
    (True, 0)
    """
    from tcrtrack.cohort._query import query_hits

    st = store if isinstance(store, Store) else open_store(store)
    spec = counts.spec
    if spec.paired or spec.locus != st.locus:
        msg = (
            f"{st.path}: the store holds {st.locus} clonotypes; the counts are defined on "
            f"{spec.locus}: compare the same chain (--locus {st.locus})"
        )
        raise ParameterError(msg)
    if spec.alleles:
        msg = (
            f"{st.path}: the store holds gene calls at gene level (alleles removed); define the "
            "clonotypes without alleles (leave out --alleles) to compare them with it"
        )
        raise ParameterError(msg)
    if not isinstance(public_donors, int) or public_donors < 1:
        msg = f"public_donors must be a whole number of at least 1, got {public_donors!r}"
        raise ParameterError(msg)
    ref_row = counts.index(reference)
    labels = counts.clonotypes["clonotype"].astype(str).tolist()
    hits = query_hits(
        st, labels, sequence=spec.sequence, genes=spec.genes, scheduler=scheduler, workers=workers
    )
    if exclude_patients is None:
        own = st.samples[st.samples["sample"].isin(list(counts.samples))]
        excluded = tuple(dict.fromkeys(own["patient"].astype(str)))
    else:
        excluded = tuple(exclude_patients)
    donors = hits[~hits["patient"].isin(list(excluded))]
    per = donors.groupby("clonotype")["patient"].nunique()
    n_donors = np.asarray(pd.Series(labels).map(per).fillna(0), dtype=np.int64)
    public = n_donors >= public_donors
    presence = counts.presence()
    ref = presence[ref_row]
    rows = {}
    others = [x for x in counts.samples if x != reference] if samples is None else list(samples)
    for name in others:
        p = presence[counts.index(name)]
        shared = p & ref
        n_clonotypes, n_shared = int(p.sum()), int(shared.sum())
        n_public, n_shared_public = int((p & public).sum()), int((shared & public).sum())
        n_private = n_clonotypes - n_public
        rows[name] = {
            "n_clonotypes": n_clonotypes,
            "n_shared": n_shared,
            "frac_clonotypes_shared": n_shared / n_clonotypes if n_clonotypes else np.nan,
            "n_public": n_public,
            "n_shared_public": n_shared_public,
            "n_clonotypes_private": n_private,
            "n_shared_private": n_shared - n_shared_public,
            "frac_clonotypes_shared_private": (
                (n_shared - n_shared_public) / n_private if n_private else np.nan
            ),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "sample"
    from tcrtrack.tl import shared_clonotypes

    clones = shared_clonotypes(counts, reference=reference, samples=others)
    lookup = pd.Series(n_donors, index=labels, name="n_background_donors")
    clones["n_background_donors"] = clones["clonotype"].astype(str).map(lookup).astype("int64")
    clones["public"] = clones["n_background_donors"] >= public_donors
    if pgen:
        clones["pgen"] = _pgen(clones["junction_aa"].astype(str).tolist(), spec.locus)
    return Background(
        table=table,
        clonotypes=clones,
        public_donors=public_donors,
        n_donors=int(st.samples.loc[~st.samples["patient"].isin(excluded), "patient"].nunique()),
        excluded=excluded,
        n_background_donors=lookup,
    )


def shared_publicity(
    counts: Any,
    *,
    reference: str,
    store: Store | str | os.PathLike[str] | None = None,
    public_donors: int = 2,
    exclude_patients: Sequence[str] | None = None,
    samples: Sequence[str] | None = None,
    pgen: bool = False,
    scheduler: str | None = None,
    workers: int | None = None,
) -> tuple[pd.DataFrame, Background | None]:
    """The clonotypes a patient's samples share with the reference, with their publicity.

    With a ``store``: :func:`background`'s shared clonotypes (``n_background_donors``,
    ``public`` and, with ``pgen``, ``pgen``) and the :class:`Background` itself. Without one:
    :func:`tcrtrack.tl.shared_clonotypes` with each clonotype's ``pgen`` and None. What
    ``tcrtrack share/track/report --background/--pgen`` show.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> contigs = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered")).head(40)
    >>> a, b = contigs.assign(sample="a"), contigs.assign(sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]), spec=tt.tl.ClonotypeSpec(sequence="aa"))
    >>> clones, bg = tt.cohort.shared_publicity(counts, reference="a", pgen=True)
    >>> bg is None, len(clones), bool((clones["pgen"] > 0).all())
    (True, 17, True)
    >>> str(clones.loc[3, "junction_aa"]), f"{clones.loc[3, 'pgen']:.4g}"
    ('CASSRGLNTEAFF', '1.554e-06')
    """
    if store is None:
        from tcrtrack.tl import shared_clonotypes

        clones = shared_clonotypes(counts, reference=reference, samples=samples)
        clones["pgen"] = _pgen(clones["junction_aa"].astype(str).tolist(), counts.spec.locus)
        return clones, None
    result = background(
        counts,
        reference=reference,
        store=store,
        public_donors=public_donors,
        exclude_patients=exclude_patients,
        samples=samples,
        pgen=pgen,
        scheduler=scheduler,
        workers=workers,
    )
    return result.clonotypes, result


_MODELS = {"TRB": ("human_T_beta", "VDJ"), "TRA": ("human_T_alpha", "VJ")}


@cache
def _olga_model(locus: str) -> Any:
    try:
        import olga
        import olga.generation_probability as generation
        import olga.load_model as load
    except ImportError:
        msg = "Pgen needs OLGA: pip install olga (or 'tcrtrack[cohort]')"
        raise ParameterError(msg) from None
    name, kind = _MODELS[locus]
    folder = os.path.join(os.path.dirname(olga.__file__), "default_models", name)
    files = [
        os.path.join(folder, f)
        for f in ("model_params.txt", "V_gene_CDR3_anchors.csv", "J_gene_CDR3_anchors.csv")
    ]
    if kind == "VDJ":
        data: Any = load.GenomicDataVDJ()
        model: Any = load.GenerativeModelVDJ()
    else:
        data = load.GenomicDataVJ()
        model = load.GenerativeModelVJ()
    with warnings.catch_warnings():
        # OLGA leaves its model files for the garbage collector to close
        warnings.simplefilter("ignore", ResourceWarning)
        data.load_igor_genomic_data(*files)
        model.load_and_process_igor_model(os.path.join(folder, "model_marginals.txt"))
        gc.collect()
    if kind == "VDJ":
        return generation.GenerationProbabilityVDJ(model, data)
    return generation.GenerationProbabilityVJ(model, data)


def pgen(junction_aa: Sequence[str], *, locus: str = "TRB") -> np.ndarray:
    """Generation probability of amino-acid junctions under OLGA's bundled human model.

    ``Pgen`` is the probability that V(D)J recombination produces the amino-acid junction
    (conserved Cys to Phe/Trp, as tcrtrack's ``junction_aa`` and OLGA's CDR3 both are), summed
    over every nucleotide sequence and gene choice that codes it, under the default human
    TRB (``locus="TRB"``) or TRA model that ships with OLGA (Sethna et al. 2019; nothing is
    downloaded). High Pgen is a second signal of convergence: such a clone is likely to be
    made again, in anyone. A junction OLGA cannot score (non-standard letters) gets 0.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> p = tt.cohort.pgen(["CASSLGQAYEQYF", "CASSPVSNEQFF"])
    >>> bool((p > 1e-12).all() and (p < 1e-4).all())
    True
    """
    return _pgen(junction_aa, locus)


def _pgen(junction_aa: Sequence[str], locus: str) -> np.ndarray:
    if locus not in _MODELS:
        msg = f"Pgen is available for TRB and TRA (OLGA's human models), not {locus!r}"
        raise ParameterError(msg)
    model = _olga_model(locus)
    out = np.zeros(len(junction_aa), dtype=np.float64)
    for i, aa in enumerate(junction_aa):
        if aa and all(c in "ACDEFGHIKLMNPQRSTVWY" for c in aa):
            out[i] = float(model.compute_aa_CDR3_pgen(aa))
    return out
