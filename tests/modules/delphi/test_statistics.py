"""The statistics against hand-computed values (inclusive / type-7 quartiles), consensus,
stability and the consensus states."""

from __future__ import annotations

import statistics

import pytest

from modules.delphi import statistics as st

RULE = st.ConsensusRule()


def test_quartiles_by_the_inclusive_method_match_hand_computed_values():
    # 1 2 3 4 5 6 7 8: h = 7p -> Q1 at 1.75: 2 + .75*(3-2) = 2.75; median at 3.5: 4.5; Q3 at 5.25: 6.25
    assert st.quartiles([8, 1, 7, 2, 6, 3, 5, 4]) == (2.75, 4.5, 6.25)
    # 3 5 7 9 11: Q1 at 1: 5; median 7; Q3 at 3: 9
    assert st.quartiles([11, 3, 9, 5, 7]) == (5, 7, 9)
    # 10 20 40: Q1 at .5: 15; median 20; Q3 at 1.5: 30
    assert st.quartiles([40, 10, 20]) == (15, 20, 30)
    data = [4, 8, 8, 5, 9, 7, 7, 6, 8, 2]
    q1, median, q3 = st.quartiles(data)
    assert [q1, median, q3] == pytest.approx(statistics.quantiles(data, n=4, method="inclusive"))


def test_summary_of_a_scale_question():
    s = st.summarise("scale", [7, 8, 8, 9, 6, 8, 7], scale_max=9)
    # sorted 6 7 7 8 8 8 9: Q1 at 1.5 -> 7, median 8, Q3 at 4.5 -> 8
    assert (s.n, s.q1, s.median, s.q3, s.iqr) == (7, 7, 8, 8, 1)
    assert s.within_band == pytest.approx(6 / 7)  # all but the 6 within 1 point of 8
    assert [b["count"] for b in s.histogram] == [0, 0, 0, 0, 0, 1, 2, 3, 1]
    assert s.mean == pytest.approx(53 / 7)


def test_statistics_are_withheld_below_three_answers():
    s = st.summarise("numeric", [10, 20])
    assert s.withheld and s.median is None and s.histogram == []
    assert st.consensus_state(s, None, RULE, 1) == st.INSUFFICIENT
    assert st.summarise("ranking", [[0, 1]], options=2).withheld


def test_probability_and_year_histograms():
    p = st.summarise("probability", [5, 15, 15, 95, 100])
    assert [b["count"] for b in p.histogram] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    y = st.summarise("year", [2030, 2031, 2035, 2040], min_value=2026, max_value=2050)
    assert sum(b["count"] for b in y.histogram) == 4
    assert y.histogram[0]["low"] == 2026


def test_consensus_by_iqr_and_by_band():
    tight = st.summarise("scale", [7, 7, 8, 8, 8, 9])  # Q1 7.25, Q3 8 -> IQR .75
    wide = st.summarise("scale", [1, 3, 5, 7, 9])  # Q1 3, Q3 7 -> IQR 4
    assert st.agrees(tight, RULE, 1) and not st.agrees(wide, RULE, 1)
    band = st.ConsensusRule(rule="band", band_share=0.7)
    # 1 5 5 6 9: median 5, within 1 point: 5 5 6 -> 60 %
    assert st.summarise("scale", [1, 5, 5, 6, 9]).within_band == pytest.approx(0.6)
    assert not st.agrees(st.summarise("scale", [1, 5, 5, 6, 9]), band, 1)
    assert st.agrees(st.summarise("scale", [4, 5, 5, 6, 9]), band, 1)  # 80 %
    assert st.diverges_widely(wide, RULE, 1) and not st.diverges_widely(tight, RULE, 1)


def test_stability_and_the_consensus_states():
    first = st.summarise("scale", [2, 4, 6, 8, 9])  # Q1 4, median 6, Q3 8, IQR 4
    second = st.summarise("scale", [3, 4, 6, 8, 8])  # Q1 4, median 6, Q3 8, IQR 4: stable, no agreement
    assert st.stable(first, second, RULE, 1)
    assert st.consensus_state(second, first, RULE, 1) == st.STABLE_DISAGREEMENT
    third = st.summarise("scale", [5, 6, 6, 6, 7])  # Q1 6, median 6, Q3 6: IQR 0, but IQR moved by 4
    assert st.consensus_state(third, second, RULE, 1) == st.CONVERGING
    fourth = st.summarise("scale", [5, 6, 6, 6, 6])  # IQR 0, median 6: agreement and stable
    assert st.consensus_state(fourth, third, RULE, 1) == st.CONSENSUS
    assert st.consensus_state(fourth, None, RULE, 1) == st.CONSENSUS  # round 1: agreement suffices
    assert st.consensus_state(first, None, RULE, 1) == st.CONVERGING
    assert st.consensus_state(st.summarise("text", ["a", "b", "c"]), None, RULE, 1) == st.NO_STATISTICS


def test_rankings_by_mean_rank_and_kendalls_w():
    perfect = st.summarise("ranking", [[0, 1, 2], [0, 1, 2], [0, 1, 2]], options=3)
    assert perfect.mean_ranks == [1, 2, 3] and perfect.order == [0, 1, 2] and perfect.kendall_w == pytest.approx(1)
    # rank sums: option 0: 1+2+3=6, option 1: 2+3+1=6, option 2: 3+1+2=6 -> S = 0, W = 0
    cyclic = st.summarise("ranking", [[0, 1, 2], [2, 0, 1], [1, 2, 0]], options=3)
    assert cyclic.kendall_w == pytest.approx(0)
    # sums 4, 5, 9 (mean 6): S = 4+1+9 = 14; W = 12*14 / (9*24) = 0.7778
    mixed = st.summarise("ranking", [[0, 1, 2], [1, 0, 2], [0, 1, 2]], options=3)
    assert mixed.kendall_w == pytest.approx(12 * 14 / (9 * 24))
    assert st.consensus_state(mixed, None, RULE, 1) == st.CONSENSUS
    assert st.diverges_widely(cyclic, RULE, 1)


def test_minority_answers_are_those_outside_the_interquartile_range():
    s = st.summarise("numeric", [100, 200, 210, 220, 900])  # Q1 200, Q3 220
    assert [v for v in (100, 200, 210, 220, 900) if st.outside_iqr(v, s)] == [100, 900]
