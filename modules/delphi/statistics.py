"""The statistics of a Delphi round, as pure functions (no database, no web).

Quartiles use the **inclusive method (Hyndman–Fan type 7, linear interpolation)**: the p-th
quantile of the n sorted answers x₀ ≤ … ≤ xₙ₋₁ is found at position h = (n − 1)·p, and is
x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋). It is numpy's default and Python's
``statistics.quantiles(data, n=4, method="inclusive")``; the results page says so.

Consensus (DOMAIN.md §3 "Delphi method": repeat until the experts agree; issue "Consensus per
question, configurable"). Every numeric question has a *unit of tolerance* (``tolerance``): one
point on a scale, 10 percentage points for a probability, 5 years for a year, a tenth of the
allowed range for a numeric estimate unless the organiser sets one. Then:

* **agreement** — rule "iqr": the interquartile range is at most ``iqr_bound`` units (1 point on
  a 1–9 scale by default); rule "band": at least ``band_share`` (70 %) of the answers lie within
  one unit of the median; a ranking agrees when Kendall's W is at least 0.7;
* **stability** — between two rounds the median and the IQR each move by at most
  ``stability_bound`` units (half a unit by default); for a ranking, every mean rank moves by at
  most ``stability_bound`` and W by at most 0.1;
* the state — *consensus*: agreement, and stable when there was a previous round; *stable
  disagreement*: no agreement, but stable; *converging*: anything else; *insufficient*: fewer
  than :data:`MIN_ANSWERS` answers, when every statistic is withheld.

A round *diverges widely* when a question's IQR exceeds twice the agreement bound (a ranking:
W below 0.3); the study then asks for at least ``divergence_rounds`` rounds (3 by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MIN_ANSWERS = 3  # statistics are withheld below this many answers (anonymity)
METHOD = "inclusive"  # quartiles: type 7 linear interpolation
NUMERIC_KINDS = ("numeric", "scale", "probability", "year")
KENDALL_W_AGREEMENT = 0.7
KENDALL_W_DIVERGENCE = 0.3
KENDALL_W_STABILITY = 0.1

CONSENSUS = "consensus"
CONVERGING = "converging"
STABLE_DISAGREEMENT = "stable_disagreement"
INSUFFICIENT = "insufficient"
NO_STATISTICS = "no_statistics"  # free text


@dataclass(frozen=True)
class ConsensusRule:
    rule: str = "iqr"  # "iqr" or "band"
    iqr_bound: float = 1.0  # in units of tolerance
    band_share: float = 0.7
    stability_bound: float = 0.5  # in units of tolerance


@dataclass
class Summary:
    """The statistics of one question in one round. ``withheld``: fewer than 3 answers, and
    every figure is None."""

    kind: str
    n: int
    withheld: bool
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    iqr: float | None = None
    mean: float | None = None
    low: float | None = None
    high: float | None = None
    within_band: float | None = None  # share of answers within one unit of the median
    histogram: list[dict] = field(default_factory=list)  # {"label", "low", "high", "count"}
    # rankings
    mean_ranks: list[float] = field(default_factory=list)  # by option index
    order: list[int] = field(default_factory=list)  # option indexes, best mean rank first
    kendall_w: float | None = None


def quantile(ordered: list[float], p: float) -> float:
    """The p-quantile of sorted values by the inclusive method (type 7)."""
    n = len(ordered)
    if n == 0:
        raise ValueError("no values")
    h = (n - 1) * p
    lo = math.floor(h)
    if lo + 1 >= n:
        return float(ordered[-1])
    return ordered[lo] + (h - lo) * (ordered[lo + 1] - ordered[lo])


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """(Q1, median, Q3) by the inclusive method."""
    ordered = sorted(values)
    return quantile(ordered, 0.25), quantile(ordered, 0.5), quantile(ordered, 0.75)


def default_tolerance(kind: str, min_value: float | None = None, max_value: float | None = None,
                      scale_max: int = 9) -> float:
    """One unit of tolerance for a question kind (see the module docstring)."""
    if kind == "scale":
        return 1.0
    if kind == "probability":
        return 10.0
    if kind == "year":
        return 5.0
    if kind == "ranking":
        return 1.0
    if min_value is not None and max_value is not None and max_value > min_value:
        return (max_value - min_value) / 10
    return 1.0


def _round_edge(value: float) -> float:
    return round(value, 6)


def histogram(kind: str, ordered: list[float], *, min_value: float | None = None, max_value: float | None = None,
              scale_max: int = 9, bins: int = 8) -> list[dict]:
    """Counts per bin: one bin per point of a scale; ten bins of 10 % for a probability; for a
    year or a numeric estimate ``bins`` equal bins over the allowed range (or the answers'
    range), the last one closed. Years get whole-year bins."""
    if kind == "scale":
        counts = [0] * scale_max
        for value in ordered:
            index = int(round(value)) - 1
            if 0 <= index < scale_max:
                counts[index] += 1
        return [{"label": str(i + 1), "low": i + 1, "high": i + 1, "count": c} for i, c in enumerate(counts)]
    if kind == "probability":
        edges = [i * 10 for i in range(11)]
    else:
        low = min_value if min_value is not None else ordered[0]
        high = max_value if max_value is not None else ordered[-1]
        low, high = min(low, ordered[0]), max(high, ordered[-1])
        if kind == "year":
            low, high = math.floor(low), math.floor(high)
            width = max(1, math.ceil((high - low + 1) / bins))
            edges = [low + i * width for i in range(bins + 1)]
            while edges[-1] <= high:
                edges.append(edges[-1] + width)
            counts = [0] * (len(edges) - 1)
            for value in ordered:
                counts[min(len(counts) - 1, int((value - low) // width))] += 1
            return [{"label": str(edges[i]) if width == 1 else f"{edges[i]}–{edges[i + 1] - 1}",
                     "low": edges[i], "high": edges[i + 1] - 1, "count": c} for i, c in enumerate(counts)]
        if high <= low:
            high = low + 1
        width = (high - low) / bins
        edges = [_round_edge(low + i * width) for i in range(bins + 1)]
    counts = [0] * (len(edges) - 1)
    span = edges[-1] - edges[0]
    for value in ordered:
        index = int((value - edges[0]) / span * (len(edges) - 1)) if span else 0
        counts[max(0, min(len(counts) - 1, index))] += 1
    return [{"label": f"{_fmt(edges[i])}–{_fmt(edges[i + 1])}", "low": edges[i], "high": edges[i + 1], "count": c}
            for i, c in enumerate(counts)]


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def summarise(kind: str, values: list, *, min_value: float | None = None, max_value: float | None = None,
              scale_max: int = 9, tolerance: float | None = None, options: int = 0) -> Summary:
    """The statistics of one question's answers (numbers, or rankings as lists of option indexes
    best first). Fewer than :data:`MIN_ANSWERS` answers: withheld."""
    n = len(values)
    if kind == "text":
        return Summary(kind=kind, n=n, withheld=n < MIN_ANSWERS)
    if n < MIN_ANSWERS:
        return Summary(kind=kind, n=n, withheld=True)
    if kind == "ranking":
        return _summarise_ranking(values, options)
    ordered = sorted(float(v) for v in values)
    q1, median, q3 = quantile(ordered, 0.25), quantile(ordered, 0.5), quantile(ordered, 0.75)
    unit = tolerance if tolerance else default_tolerance(kind, min_value, max_value, scale_max)
    within = sum(1 for v in ordered if abs(v - median) <= unit + 1e-9) / n
    return Summary(kind=kind, n=n, withheld=False, median=median, q1=q1, q3=q3, iqr=q3 - q1,
                   mean=sum(ordered) / n, low=ordered[0], high=ordered[-1], within_band=within,
                   histogram=histogram(kind, ordered, min_value=min_value, max_value=max_value, scale_max=scale_max))


def _summarise_ranking(rankings: list[list[int]], options: int) -> Summary:
    """Mean rank of each option (1 = best) and Kendall's coefficient of concordance
    W = 12·S / (m²·(k³ − k)), S the sum of squared deviations of the options' rank sums from
    their mean, m the number of experts, k the number of options (no correction for ties: every
    answer is a full ordering)."""
    m = len(rankings)
    k = options or (len(rankings[0]) if rankings else 0)
    sums = [0.0] * k
    for ranking in rankings:
        for position, option in enumerate(ranking):
            if 0 <= option < k:
                sums[option] += position + 1
    mean_ranks = [s / m for s in sums]
    if k > 1:
        mean_sum = m * (k + 1) / 2
        s = sum((r - mean_sum) ** 2 for r in sums)
        w = 12 * s / (m * m * (k ** 3 - k))
    else:
        w = 1.0
    order = sorted(range(k), key=lambda i: (mean_ranks[i], i))
    return Summary(kind="ranking", n=m, withheld=False, mean_ranks=mean_ranks, order=order, kendall_w=w)


def agrees(summary: Summary, rule: ConsensusRule, tolerance: float) -> bool:
    if summary.kind == "ranking":
        return summary.kendall_w is not None and summary.kendall_w >= KENDALL_W_AGREEMENT - 1e-9
    if rule.rule == "band":
        return summary.within_band is not None and summary.within_band >= rule.band_share - 1e-9
    return summary.iqr is not None and summary.iqr <= rule.iqr_bound * tolerance + 1e-9


def stable(previous: Summary, current: Summary, rule: ConsensusRule, tolerance: float) -> bool:
    """Median and IQR each moved by at most ``stability_bound`` units between the rounds."""
    if previous.withheld or current.withheld:
        return False
    if current.kind == "ranking":
        if len(previous.mean_ranks) != len(current.mean_ranks):
            return False
        moved = max((abs(a - b) for a, b in zip(previous.mean_ranks, current.mean_ranks)), default=0.0)
        return moved <= rule.stability_bound + 1e-9 and \
            abs((previous.kendall_w or 0) - (current.kendall_w or 0)) <= KENDALL_W_STABILITY + 1e-9
    bound = rule.stability_bound * tolerance + 1e-9
    return abs(current.median - previous.median) <= bound and abs(current.iqr - previous.iqr) <= bound


def consensus_state(current: Summary, previous: Summary | None, rule: ConsensusRule, tolerance: float) -> str:
    """consensus, converging, stable_disagreement, insufficient or no_statistics (free text)."""
    if current.kind == "text":
        return NO_STATISTICS
    if current.withheld:
        return INSUFFICIENT
    has_previous = previous is not None and not previous.withheld
    is_stable = has_previous and stable(previous, current, rule, tolerance)
    if agrees(current, rule, tolerance):
        return CONSENSUS if (not has_previous or is_stable) else CONVERGING
    return STABLE_DISAGREEMENT if is_stable else CONVERGING


def diverges_widely(summary: Summary, rule: ConsensusRule, tolerance: float) -> bool:
    """The IQR is more than twice the agreement bound (a ranking: W below 0.3)."""
    if summary.withheld or summary.kind == "text":
        return False
    if summary.kind == "ranking":
        return summary.kendall_w is not None and summary.kendall_w < KENDALL_W_DIVERGENCE
    return summary.iqr is not None and summary.iqr > 2 * rule.iqr_bound * tolerance + 1e-9


def outside_iqr(value: float | None, summary: Summary) -> bool:
    """An answer below the first or above the third quartile: a minority view."""
    if value is None or summary.withheld or summary.q1 is None:
        return False
    return value < summary.q1 - 1e-9 or value > summary.q3 + 1e-9


def ranking_distance(ranking: list[int], summary: Summary) -> float:
    """How far an expert's ordering is from the group's (Spearman footrule, normalised 0–1)."""
    if summary.withheld or not summary.order:
        return 0.0
    group_position = {option: i for i, option in enumerate(summary.order)}
    k = len(summary.order)
    worst = (k * k) // 2 or 1
    return sum(abs(i - group_position.get(option, i)) for i, option in enumerate(ranking)) / worst
