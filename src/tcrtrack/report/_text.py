"""Fixed text of the report: the style sheet and the Definitions section (from docs/concepts.md
and docs/statistics.md). Nothing here comes from the user, so nothing here is escaped."""

from __future__ import annotations

#: Scoped to ``.tcrtrack-report`` so that the page's style does not leak into a notebook.
STYLE = """
.tcrtrack-report { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial,
  sans-serif; font-size: 14px; line-height: 1.45; color: #222; max-width: 1100px;
  margin: 0 auto; padding: 0 1em 3em 1em; }
.tcrtrack-report h1 { font-size: 1.6em; border-bottom: 2px solid #4477AA; padding-bottom: .2em; }
.tcrtrack-report h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
.tcrtrack-report h3 { font-size: 1.05em; margin-bottom: .3em; }
.tcrtrack-report table { border-collapse: collapse; margin: .5em 0 1em 0; font-size: 12.5px; }
.tcrtrack-report th, .tcrtrack-report td { border: 1px solid #ddd; padding: 3px 8px;
  text-align: right; vertical-align: top; white-space: nowrap; }
.tcrtrack-report thead th { background: #f2f4f7; }
.tcrtrack-report tbody th { text-align: left; background: #fafafa; }
.tcrtrack-report td.seq, .tcrtrack-report code { font-family: ui-monospace, Menlo, Consolas,
  monospace; font-size: 12px; }
.tcrtrack-report td.seq { text-align: left; }
.tcrtrack-report figure { margin: .5em 0 1.2em 0; }
.tcrtrack-report figure img { max-width: 100%; height: auto; }
.tcrtrack-report figcaption, .tcrtrack-report .note { color: #555; font-size: 12.5px; }
.tcrtrack-report dl.meta { display: grid; grid-template-columns: max-content auto;
  gap: 2px 1em; }
.tcrtrack-report dl.meta dt { font-weight: 600; }
.tcrtrack-report dl.meta dd { margin: 0; }
.tcrtrack-report nav ol { columns: 2; }
.tcrtrack-report dl.defs dt { font-weight: 600; margin-top: .5em; }
.tcrtrack-report dl.defs dd { margin-left: 1.5em; }
.tcrtrack-report .scroll { overflow-x: auto; }
"""

#: The Definitions section (HTML body, heading added by the builder).
DEFINITIONS = """
<p>Every number in this report is computed from one table of clonotype counts, so a table and
a figure cannot disagree. Notation: for a sample <i>S</i>, C<sub>S</sub> is its set of
distinct clonotypes (count &gt; 0), <i>a<sub>i</sub></i> the size of clonotype <i>i</i> in
cells (or the bulk unit), <i>N<sub>S</sub></i> the sample's total (distinct cells with a
clonotype). <i>R</i> is the reference (the infusion product).</p>
<dl class="defs">
<dt>Clonotype</dt>
<dd>Cells with the same sequence of the chosen chain(s) under the clonotype definition stated
in the header (default: exact TRB junction nucleotides, i.e. 10x <code>cdr3_nt</code>; a cell
with two TRB chains keeps the one with most UMIs, then most reads).</dd>
<dt>QC ledger</dt>
<dd>Rows read from each file, rows dropped per reason, rows kept (<i>kept</i> = <i>read</i> −
<i>dropped</i>); <code>cells_*</code> columns count cells, not rows.</dd>
<dt>Clonotypes shared with the reference (sharing frequency)</dt>
<dd>|C<sub>S</sub> ∩ C<sub>R</sub>| / |C<sub>S</sub>|: clonotypes of the sample also found in
the infusion product, over all clonotypes of the sample (the reference study's
definition).</dd>
<dt>Cells in shared clonotypes</dt>
<dd>cells of <i>S</i> whose clonotype is in C<sub>R</sub> / <i>N<sub>S</sub></i>: the share of
the sample's T cells that descend from infused clones.</dd>
<dt>Reference clonotypes found</dt>
<dd>|C<sub>S</sub> ∩ C<sub>R</sub>| / |C<sub>R</sub>|: infused clonotypes found again in the
sample.</dd>
<dt>Reference cells found</dt>
<dd>cells of <i>R</i> whose clonotype is in C<sub>S</sub> / <i>N<sub>R</sub></i>: the share of
the infused product, by cells, whose clonotype persists.</dd>
<dt>Intervals</dt>
<dd>Clonotype fractions: exact binomial (Clopper–Pearson) interval on the shared count out of
the clonotype count. Cell fractions: percentile bootstrap over the cells counted by the
fraction, the other sample's clonotype set held fixed (seeded).</dd>
<dt>Rarefied sharing</dt>
<dd>Each sample is subsampled without replacement to a common depth (default: the smallest
sample), many times (seeded); the sharing is recomputed on each subsample; the table gives the
mean and the central range of the subsampled values (where the sharing of one sample of that
depth falls). The reference is kept whole. The sharing curve repeats this over depths.</dd>
<dt>Venn regions and intersections</dt>
<dd>A region holds the clonotypes found in exactly those samples and in no other; the regions
of a sample add up to its clonotype count. The UpSet plot shows the same numbers for any
number of samples.</dd>
<dt>Clone tracking</dt>
<dd>For a clone with <i>a</i> cells in <i>R</i> and <i>b</i> in a later sample <i>S</i>:
frequencies <i>a</i>/<i>N<sub>R</sub></i>, <i>b</i>/<i>N<sub>S</sub></i>;
log2FC = log<sub>2</sub>(((<i>b</i> + 0.5)/<i>N<sub>S</sub></i>) /
((<i>a</i> + 0.5)/<i>N<sub>R</sub></i>)); for cells and templates, Fisher's exact test
(two-sided) of [[<i>a</i>, <i>N<sub>R</sub></i> − <i>a</i>], [<i>b</i>,
<i>N<sub>S</sub></i> − <i>b</i>]]; for reads and UMIs (overdispersed: reads of one cell are not
independent draws), a beta-binomial test of <i>a</i> given <i>a</i> + <i>b</i> whose dispersion
is estimated from the clones of the pair; q = Benjamini–Hochberg over all clones found in
<i>R</i> or <i>S</i>. Two separate calls: presence — <i>shared</i>, <i>new</i> (<i>a</i> = 0
&lt; <i>b</i>), <i>lost</i> (<i>b</i> = 0 &lt; <i>a</i>); change — <i>expanded</i> /
<i>contracted</i> (q &lt; α, log2FC &gt; 0 / &lt; 0, at least 2 cells or units in the larger
sample), else <i>not significant</i>.</dd>
<dt>Origin of later clones</dt>
<dd>Each clonotype of a later sample is <i>product</i> (in <i>R</i>, not in the baseline
<i>B</i>), <i>pre-existing</i> (in <i>R</i> and <i>B</i>), <i>baseline-only</i> (in <i>B</i>,
not in <i>R</i>) or <i>unexplained</i> (in neither); without a baseline, <i>reference</i> (in
<i>R</i>) or <i>unexplained</i>. Fractions of clonotypes carry exact binomial intervals.</dd>
<dt>Detection limit and absent clones</dt>
<dd>A clone at frequency <i>f</i> is missed by a sample of <i>N</i> cells with probability
(1 − <i>f</i>)<sup><i>N</i></sup>; LOD = 1 − (1 − <i>d</i>)<sup>1/<i>N</i></sup>, the frequency
seen with probability <i>d</i> (95%). For reads or UMIs <i>N</i> is the effective number
1/<i>N</i><sub>eff</sub> = 1/<i>N</i><sub>cells</sub> + 1/<i>N</i><sub>reads</sub> (cells given,
or estimated by the number of clonotypes, a lower bound). A reference clone not seen is
<i>absent</i> when it would have been seen with probability ≥ <i>d</i> at its reference
frequency <i>a</i>/<i>N<sub>R</sub></i>, else <i>undersampled</i>; <i>expected if unchanged</i>
is the sum of these probabilities.</dd>
<dt>Recapture and trajectories</dt>
<dd>Recapture: the fraction of reference clones of each size class (1, 2–3, 4–10, 11–100,
&gt; 100) detected in a sample (exact interval), beside the mean detection probability of the
class (depth alone). Trajectory of a reference clone over the later time points:
<i>persistent</i> (seen at every one), <i>intermittent</i> (at the first and the last, not
every one between), <i>late</i> (not the first, the last), <i>transient</i> (seen, not at the
last), <i>lost</i> (never seen again).</dd>
<dt>Diversity</dt>
<dd>With clone sizes <i>c<sub>i</sub></i> of the <i>S</i> clonotypes of a sample,
<i>N</i> = Σ <i>c<sub>i</sub></i> and <i>p<sub>i</sub></i> = <i>c<sub>i</sub></i>/<i>N</i>:
richness <i>S</i>; Shannon entropy <i>H</i> = −Σ <i>p<sub>i</sub></i> ln <i>p<sub>i</sub></i>;
clonality 1 − <i>H</i>/ln <i>S</i> (0 for equal clones, towards 1 when one dominates; NA for
<i>S</i> = 1); Simpson Σ <i>p<sub>i</sub></i><sup>2</sup>; Gini
Σ<sub><i>i</i>,<i>j</i></sub> |<i>c<sub>i</sub></i> − <i>c<sub>j</sub></i>| /
(2 <i>S</i><sup>2</sup> <i>c̄</i>); D50 the smallest number of clonotypes, largest first,
holding ≥ <i>N</i>/2 (and as % of <i>S</i>). At a common depth: the mean and central range over
subsamples drawn without replacement.</dd>
<dt>Morisita–Horn overlap</dt>
<dd>2 Σ<sub><i>i</i></sub> <i>a<sub>i</sub></i> <i>b<sub>i</sub></i> /
((<i>D<sub>A</sub></i> + <i>D<sub>B</sub></i>) <i>A</i> <i>B</i>), with
<i>A</i> = Σ <i>a<sub>i</sub></i>, <i>D<sub>A</sub></i> = Σ <i>a<sub>i</sub></i><sup>2</sup> /
<i>A</i><sup>2</sup> (likewise <i>B</i>): 1 for identical clone-size distributions, 0 for no
common clonotype; it weighs large clones most.</dd>
<dt>Background donors, public clonotypes (with a background store)</dt>
<dd><i>n</i><sub>background donors</sub>(<i>i</i>): the patients of the store, other than the
patient under study, with a repertoire containing clonotype <i>i</i> (same definition:
sequence, genes); <i>i</i> is public when that number is ≥ <i>k</i> (stated in the
section). Sharing without public clonotypes: |C<sub>S</sub> ∩ C<sub>R</sub> ∖ P| /
|C<sub>S</sub> ∖ P|, with P the public clonotypes.</dd>
<dt>Pgen</dt>
<dd>The probability that one V(D)J recombination event produces the clonotype's amino-acid
junction, summed over every nucleotide sequence and gene choice coding it, under OLGA's
bundled human TRB (or TRA) model; a high Pgen marks a clone anyone is likely to make.</dd>
</dl>
<p class="note">Full definitions: the tcrtrack documentation, <code>docs/concepts.md</code> and
<code>docs/statistics.md</code>.</p>
"""
