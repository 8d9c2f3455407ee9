"""Germline ends used by the simulator to build realistic CDR3 junctions.

Each V entry is the 3' end of a human V gene from its conserved Cys codon (``TGT``/``TGC``)
onwards; each J entry is the 5' part of a J gene up to and including the conserved Phe
(``TTT``/``TTC``) or Trp (``TGG``) codon that closes the junction. Sequences follow IMGT's
germline references (human, ``*01`` alleles); they only need to look like real junctions, and a
simulated junction is always translated again, so ``cdr3`` always equals the translation of
``cdr3_nt``. The weights are rough usage frequencies (common genes drawn more often).
"""

from __future__ import annotations

from typing import Final

#: locus -> V genes: (name, 3' end from the Cys codon, relative usage)
V_GENES: Final[dict[str, tuple[tuple[str, str, float], ...]]] = {
    "TRB": (
        ("TRBV20-1", "TGCAGTGCTAGAGA", 10.0),
        ("TRBV5-1", "TGCGCCAGCAGCTTGGC", 6.0),
        ("TRBV6-5", "TGTGCCAGCAGTTACTC", 5.0),
        ("TRBV7-9", "TGTGCCAGCAGCTTAGC", 6.0),
        ("TRBV28", "TGTGCCAGCAGTTTATC", 5.0),
        ("TRBV19", "TGTGCCAGTAGTATAGA", 5.0),
        ("TRBV27", "TGTGCCAGCAGTTTATC", 4.0),
        ("TRBV4-1", "TGCGCCAGCAGCCAAGA", 3.0),
        ("TRBV9", "TGTGCCAGCAGCGTAGA", 4.0),
        ("TRBV12-3", "TGTGCCAGCAGTTTAGC", 4.0),
        ("TRBV2", "TGTGCCAGCAGTGAAGC", 4.0),
        ("TRBV3-1", "TGTGCCAGCAGCCAAGA", 3.0),
        ("TRBV18", "TGTGCCAGCTCACCACC", 2.0),
        ("TRBV29-1", "TGCAGCGTTGAAGA", 4.0),
        ("TRBV30", "TGTGCCTGGAGTGT", 2.0),
        ("TRBV7-2", "TGTGCCAGCAGCTTAGC", 3.0),
    ),
    "TRA": (
        ("TRAV1-2", "TGTGCTGTGAGAGA", 5.0),
        ("TRAV12-2", "TGTGCCGTGAACAG", 4.0),
        ("TRAV21", "TGTGCTGTGAGGC", 4.0),
        ("TRAV13-1", "TGTGCAGCAAGTAT", 3.0),
        ("TRAV8-6", "TGTGCTGTGAGTGA", 3.0),
        ("TRAV29/DV5", "TGTGCAGCAAGCG", 3.0),
        ("TRAV38-2/DV8", "TGTGCTTATAGGAGC", 3.0),
        ("TRAV26-1", "TGCATCGTCAGAGTC", 2.0),
        ("TRAV17", "TGTGCTACGGACGG", 2.0),
        ("TRAV20", "TGTGCTGTGCAGGC", 2.0),
        ("TRAV12-1", "TGTGTGGTGAACA", 3.0),
        ("TRAV19", "TGTGCTCTGAGTGAGG", 2.0),
    ),
}

#: locus -> J genes: (name, 5' part up to the closing Phe/Trp codon, relative usage)
J_GENES: Final[dict[str, tuple[tuple[str, str, float], ...]]] = {
    "TRB": (
        ("TRBJ1-1", "AACACTGAAGCTTTCTTT", 4.0),
        ("TRBJ1-2", "CTAACTATGGCTACACCTTC", 4.0),
        ("TRBJ1-3", "TCTGGAAACACCATATATTTT", 2.0),
        ("TRBJ1-4", "ACTAATGAAAAACTGTTTTTT", 2.0),
        ("TRBJ1-5", "TAGCAATCAGCCCCAGCATTTT", 3.0),
        ("TRBJ1-6", "CTCCTATAATTCACCCCTCCACTTT", 2.0),
        ("TRBJ2-1", "CTCCTACAATGAGCAGTTCTTC", 8.0),
        ("TRBJ2-2", "CGAACACCGGGGAGCTGTTTTTT", 3.0),
        ("TRBJ2-3", "AGCACAGATACGCAGTATTTT", 5.0),
        ("TRBJ2-4", "AGCCAAAAACATTCAGTACTTC", 2.0),
        ("TRBJ2-5", "ACCAAGAGACCCAGTACTTC", 5.0),
        ("TRBJ2-6", "CTCTGGGGCCAACGTCCTGACTTTC", 2.0),
        ("TRBJ2-7", "CTCCTACGAGCAGTACTTC", 9.0),
    ),
    "TRA": (
        ("TRAJ33", "TGATAGCAACTATCAGTTAATCTGG", 3.0),
        ("TRAJ49", "GAACACCGGTAACCAGTTCTATTTT", 3.0),
        ("TRAJ42", "GAATTATGGAGGAAGCCAAGGAAATCTCATCTTT", 3.0),
        ("TRAJ20", "CTCTAACGACTACAAGCTCAGCTTT", 2.0),
        ("TRAJ53", "GAGTGGAGGTAGCAACTATAAACTGACATTT", 3.0),
        ("TRAJ12", "GATGGATAGCAGCTATAAATTGATCTTC", 2.0),
        ("TRAJ39", "GAATAATAATGCAGGCAACATGCTCACCTTT", 2.0),
        ("TRAJ45", "GTATTCAGGAGGAGGTGCTGACGGACTCACCTTT", 2.0),
        ("TRAJ9", "GGGAAATACTGGAGGCTTCAAAACTATCTTT", 3.0),
        ("TRAJ40", "CACCTCAGGAACCTACAAATACATCTTT", 2.0),
        ("TRAJ31", "CAATAACAATGCCAGACTCATGTTT", 2.0),
        ("TRAJ52", "CAATGCTGGTGGTACTAGCTATGGAAAGCTGACATTT", 2.0),
    ),
}
