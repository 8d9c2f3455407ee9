"""Where scirpy keeps the AIRR data of an AnnData or MuData; a base module shared by
``tt.io.from_scirpy`` (which reads it) and ``tt.tl.annotate`` (which writes next to it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tcrtrack.errors import SchemaError

if TYPE_CHECKING:
    import anndata

__all__ = ["airr_anndata"]


def airr_anndata(data: Any, *, airr_mod: str = "airr") -> anndata.AnnData:
    """The AnnData holding the AIRR data: ``data`` itself, or ``data.mod[airr_mod]`` of a MuData."""
    mod = getattr(data, "mod", None)
    if mod is not None:
        if airr_mod not in mod:
            msg = (
                f"the MuData has no modality {airr_mod!r} (modalities: {', '.join(mod)}); "
                "pass airr_mod= naming the one scirpy wrote"
            )
            raise SchemaError(msg)
        return mod[airr_mod]
    return data
