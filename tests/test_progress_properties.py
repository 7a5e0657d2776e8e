"""Properties of the progress rules: raising a figure never makes a district look worse."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.progress import (
    STATUS_ORDER,
    DistrictSpec,
    IndicatorSpec,
    Observation,
    ProgressInput,
    Rules,
    compute,
    elapsed_fraction,
)

YEAR = 2024  # a leap year
CODES = ("HBT", "LB", "HK")
INDICATORS = (IndicatorSpec("new_unions", "Thành lập CĐCS mới", "New unions"),
              IndicatorSpec("congresses", "Đại hội CĐCS", "Congresses", deadline=(5, 31), weight=2.0),
              IndicatorSpec("union_fees", "Thu kinh phí", "Fees", kind="amount", weight=0.5))
KEYS = tuple(i.key for i in INDICATORS)
START = datetime(YEAR, 1, 1, tzinfo=UTC)

days = st.integers(min_value=0, max_value=365).map(lambda n: date(YEAR, 1, 1) + timedelta(days=n))
values = st.floats(min_value=0, max_value=10_000, allow_nan=False, allow_infinity=False)


@st.composite
def scenarios(draw):
    observations = draw(st.lists(
        st.builds(lambda d, k, a, v, h, s: Observation(d, k, a, v, START + timedelta(hours=h), s),
                  st.sampled_from(CODES), st.sampled_from(KEYS), days, values,
                  st.integers(min_value=0, max_value=9000), st.integers(min_value=1, max_value=50)),
        min_size=1, max_size=25))
    targets = draw(st.dictionaries(st.tuples(st.sampled_from(CODES), st.sampled_from(KEYS)),
                                   st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=5_000)), max_size=9))
    rules = Rules(behind_ratio=draw(st.floats(min_value=0.1, max_value=1)),
                  score_cap=draw(st.floats(min_value=1, max_value=2)),
                  scoring_method=draw(st.sampled_from(["capped", "leader"])))
    inp = ProgressInput("cum-1", "Cụm", YEAR, draw(days), tuple(DistrictSpec(c, c) for c in CODES), INDICATORS,
                        targets, tuple(observations), (), rules)
    which = draw(st.integers(min_value=0, max_value=len(observations) - 1))
    raise_by = draw(st.floats(min_value=0, max_value=10_000, allow_nan=False))
    return inp, which, raise_by


def raised(inp: ProgressInput, which: int, by: float) -> ProgressInput:
    obs = list(inp.observations)
    o = obs[which]
    obs[which] = Observation(o.district, o.indicator, o.as_of, o.value + by, o.received_at, o.submission_id)
    return ProgressInput(inp.cluster_id, inp.cluster_name, inp.year, inp.as_of, inp.districts, inp.indicators,
                         inp.targets, tuple(obs), inp.receipts, inp.rules)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_raising_a_figure_never_lowers_its_percent_status_or_score(scenario):
    inp, which, by = scenario
    o = inp.observations[which]
    before = compute(inp).district(o.district)
    after = compute(raised(inp, which, by)).district(o.district)
    b, a = before.indicator(o.indicator), after.indicator(o.indicator)
    assert (a.actual is None) == (b.actual is None)
    if b.actual is not None:
        assert a.actual >= b.actual
    if b.percent is not None:
        assert a.percent >= b.percent
    assert STATUS_ORDER[a.status] >= STATUS_ORDER[b.status]
    assert a.status in ("no_data", "no_target") or b.status not in ("no_data", "no_target")
    if before.score is not None:
        assert after.score >= before.score


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_scores_stay_between_zero_and_the_cap_and_ranks_are_consistent(scenario):
    inp, _, _ = scenario
    p = compute(inp)
    top = 1.0 if inp.rules.scoring_method == "leader" else inp.rules.score_cap
    ranked = [d for d in p.districts if d.score is not None]
    for d in ranked:
        assert 0 <= d.score <= top + 1e-12
    # listed by rank; a rank is 1 + the number of districts with a strictly better (rounded) score
    assert [d.rank for d in ranked] == sorted(d.rank for d in ranked)
    for d in ranked:
        assert d.rank == 1 + sum(round(x.score, 4) > round(d.score, 4) for x in ranked)
    assert all(d.rank is None for d in p.districts if d.score is None)


@settings(max_examples=200, deadline=None)
@given(days, st.sampled_from([None, (5, 31), (2, 29), (12, 31), (1, 1)]))
def test_elapsed_fraction_is_in_0_1_and_grows_with_the_date(day, deadline):
    f = elapsed_fraction(day, deadline)
    assert 0 < f <= 1
    if day < date(YEAR, 12, 31):
        assert elapsed_fraction(day + timedelta(days=1), deadline) >= f
