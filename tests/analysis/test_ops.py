"""Helpers on small hand-made frames with exact results, then on the fake organization against its truth."""

from __future__ import annotations

import itertools
import warnings
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from conftest import MIDNIGHT as NOW
from conftest import bucket, build_query, page
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import usage_frames as uf
from usage_frames import ops, plot
from usage_frames._core.frames import to_frame
from usage_frames.fake.traffic import SPIKE_DAY
from usage_frames.providers.openai.fake import TIER_FACTORS, TOKEN_PRICES, FakeOrganization

DAY = 86400
T0 = 1790812800  # 2026-10-01 00:00 UTC


def frame(endpoint, buckets, group_by=(), width="1d", start="2026-10-01", end="2026-10-04"):
    """A frame from hand-written buckets: [(start_offset_s, end_offset_s, [result fields...]), ...]."""
    obj = uf.ENDPOINTS[endpoint].result_object
    body = page(*(bucket(T0 + a, T0 + b, *rs, result_object=obj) for a, b, rs in buckets))
    return to_frame([body], build_query(endpoint, start, end, bucket_width=width, group_by=list(group_by), now=NOW))


def emb(tokens, requests=1, **keys):
    return {"input_tokens": tokens, "num_model_requests": requests, **keys}


SMALL = frame(
    "embeddings",
    [
        (0, DAY, [emb(10, model="a"), emb(5, model="b")]),
        (2 * DAY, 3 * DAY, [emb(7, model="a")]),
    ],
    group_by=["model"],
)


def assert_pure(before: pd.DataFrame, after: pd.DataFrame, result: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(before, after)  # the input was not mutated
    assert result.attrs["endpoint"] == before.attrs["endpoint"]
    assert str(pd.DatetimeIndex(result.index).tz) == "UTC"


def test_complete__fills_idle_buckets_with_zeros_for_every_group():
    before = SMALL.copy()
    out = ops.complete(SMALL)
    assert_pure(before, SMALL, out)
    assert len(out) == 3 * 2
    day2 = out.loc["2026-10-02"]
    assert day2["model"].tolist() == ["a", "b"] and day2["input_tokens"].tolist() == [0, 0]
    assert out["input_tokens"].sum() == 22
    assert (out["end_time"] - out.index.to_series()).eq(pd.Timedelta(days=1)).all()


def test_complete__keeps_levels_na_and_handles_empty_frames():
    stores = frame("vector_stores", [(0, DAY, [{"usage_bytes": 100}])])
    out = ops.complete(stores)
    assert out["usage_bytes"].isna().tolist() == [False, True, True]
    empty = ops.complete(frame("embeddings", []))
    assert empty["input_tokens"].tolist() == [0, 0, 0]


def test_complete__partial_edge_buckets_follow_the_api_grid():
    df = frame("embeddings", [(3600 * 5, DAY, [emb(1)])], width="1d", start="2026-10-01T05:00", end="2026-10-02T12:00")
    out = ops.complete(df)
    assert [str(t) for t in out.index] == ["2026-10-01 05:00:00+00:00", "2026-10-02 00:00:00+00:00"]
    assert str(out["end_time"].iloc[-1]) == "2026-10-02 12:00:00+00:00"


def test_resample__sums_counts_averages_levels_and_keeps_na():
    hours = frame(
        "vector_stores",
        [(h * 3600, (h + 1) * 3600, [{"usage_bytes": 100 * (h + 1)}]) for h in range(48)],
        width="1h",
        start="2026-10-01",
        end="2026-10-03",
    )
    daily = ops.resample(hours, "D")
    assert daily["usage_bytes"].tolist() == [1250.0, 3650.0]  # means, not sums, of a level
    counts = frame(
        "completions",
        [
            (h * 3600, (h + 1) * 3600, [{"input_tokens": 1, "output_tokens": 2, "num_model_requests": 1}])
            for h in range(30)
        ],
        width="1h",
        start="2026-10-01",
        end="2026-10-03",
    )
    out = ops.resample(counts, "D")
    assert out["input_tokens"].tolist() == [24, 6]
    assert out["input_cached_tokens"].isna().all()  # absent from the answers: <NA>, not 0
    assert str(out["end_time"].iloc[0]) == "2026-10-02 00:00:00+00:00"
    assert out.attrs["bucket_width"] == "D"


def test_resample__local_days_are_dst_correct():
    hours = frame(
        "embeddings",
        [(h * 3600, (h + 1) * 3600, [emb(1)]) for h in range(24 * 30)],
        width="1h",
        start="2026-10-10",
        end="2026-11-09",
    )
    local = ops.resample(hours, "D", tz="Europe/Berlin")
    lengths = (local["end_time"] - local.index.to_series()).dt.total_seconds() / 3600
    assert lengths.loc["2026-10-24 22:00"] == 25  # 2026-10-25 has 25 hours in Berlin
    assert local.loc["2026-10-24 22:00", "input_tokens"] == 25
    assert str(local.index.tz) == "UTC" and local.attrs["tz"] == "Europe/Berlin"


def test_resample__daily_data_cannot_move_to_another_time_zone():
    with pytest.raises(uf.InvalidParameterError, match="cannot re-cut daily buckets"):
        ops.resample(SMALL, "D", tz="America/New_York")


def test_resample__single_bucket_and_empty_frames():
    single = frame("embeddings", [(0, DAY, [emb(3)])])
    assert ops.resample(single, "W-MON")["input_tokens"].tolist() == [3]
    assert len(ops.resample(frame("embeddings", []), "D")) == 0


def test_pivot_top_n_totals_share():
    wide = ops.pivot(SMALL, "model")
    assert wide.to_dict("list") == {"a": [10, 7], "b": [5, 0]}
    folded = ops.top_n(SMALL, 1, by="model")
    assert folded["model"].astype(str).tolist() == ["a", "other", "a"]
    t = ops.totals(SMALL, by="model")
    assert t["input_tokens"].to_dict() == {"a": 17, "b": 5}
    s = ops.share(SMALL, by="model")
    assert s["share_pct"].round(4).tolist() == [77.2727, 22.7273]


def test_compare__explains_the_change_by_contribution():
    before = frame("embeddings", [(0, DAY, [emb(10, model="a"), emb(10, model="b")])], group_by=["model"])
    after = frame(
        "embeddings", [(0, DAY, [emb(40, model="a"), emb(0, model="b"), emb(5, model="c")])], group_by=["model"]
    )
    out = ops.compare(after, before, by="model")
    assert out.index.tolist() == ["a", "b", "c"]
    assert out["change"].tolist() == [30, -10, 5]
    assert out["contribution_pct"].round(1).tolist() == [120.0, -40.0, 20.0]
    assert pd.isna(out.loc["c", "change_pct"])


def test_provisional__flags_partial_edges_and_recent_buckets():
    df = frame(
        "embeddings",
        [(3600, DAY, [emb(1)]), (DAY, 2 * DAY, [emb(1)]), (2 * DAY, 3 * DAY, [emb(1)])],
        start="2026-10-01T01:00",
        end="2026-10-04",
    )
    flags = ops.provisional(df, now=pd.Timestamp("2026-10-03 20:00", tz="UTC"))["provisional"].tolist()
    assert flags == [True, False, True]  # partial first day; the last ends within the settling delay


def test_gib_days__storage_times_time_not_summed_bytes():
    df = frame("vector_stores", [(0, DAY, [{"usage_bytes": 2**30}]), (DAY, DAY + 43200, [{"usage_bytes": 2**31}])])
    assert ops.gib_days(df)["gib_days"].tolist() == [1.0, 1.0]


def test_helpers__refuse_frames_not_made_by_usage_frames():
    with pytest.raises(uf.InvalidParameterError, match=r"restore_attrs\(df"):
        ops.totals(pd.DataFrame({"a": [1]}))


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("gpt-4o-2024-08-06, input", (None, "gpt-4o-2024-08-06", "input")),
        ("gpt-4o-mini, cached input", (None, "gpt-4o-mini", "cached input")),
        ("gpt-6-astra, input_tokens", (None, "gpt-6-astra", "input")),
        ("ft-gpt-4o-2024-08-06, output", (None, "ft-gpt-4o-2024-08-06", "output")),
        ("evals | gpt-4o-mini, input", ("evals", "gpt-4o-mini", "input")),
        ("assistants api | file search", ("assistants api | file search", None, None)),
        ("Image models", ("Image models", None, None)),
        ("batch | gpt-4o-mini-2024-07-18, output", ("batch", "gpt-4o-mini-2024-07-18", "output")),
        (None, (None, None, None)),
    ],
)
def test_parse_line_item__reads_what_it_can_and_guesses_nothing(item, expected):
    parsed = uf.parse_line_item(item)
    assert (parsed["product"], parsed["model"], parsed["kind"]) == expected


@pytest.fixture(scope="module")
def october():
    client = uf.Client.fake()
    usage = client.completions("2026-10-01", "2026-11-01", group_by=["model", "batch", "service_tier"])
    costs = client.costs("2026-10-01", "2026-11-01", group_by="line_item")
    return client, usage, costs


def test_unit_prices__recover_the_price_table_from_the_bill(october):
    _, _, costs = october
    prices = ops.unit_prices(costs)
    for model, (price_in, _, price_out) in TOKEN_PRICES.items():
        if not model.startswith(("gpt", "o3")):
            continue
        for kind, truth in (("input", price_in), ("output", price_out)):
            rows = prices[(prices["model"] == model) & (prices["kind"] == kind) & prices["product"].isna()]
            if len(rows):
                assert float(rows["usd_per_1m"].iloc[0]) == pytest.approx(truth, rel=0.005)
    batch = prices[
        (prices["product"] == "batch") & (prices["model"] == "gpt-4o-2024-08-06") & (prices["kind"] == "output")
    ]
    assert float(batch["usd_per_1m"].iloc[0]) == pytest.approx(10.0 * TIER_FACTORS["batch"], rel=0.005)


def test_unit_costs__usage_joined_with_costs_recovers_list_prices_per_model(october):
    _, usage, costs = october
    standard = usage[(usage["batch"] == False) & (usage["service_tier"] == "default")]  # noqa: E712
    per_model = ops.unit_costs(standard, costs, standard_only=True)
    checked = 0
    for model, (price_in, price_cached, price_out) in TOKEN_PRICES.items():
        if model not in per_model.index:
            continue
        row = per_model.loc[model]
        assert float(row["usd_per_1m_fresh_input"]) == pytest.approx(price_in, rel=0.005)
        assert float(row["usd_per_1m_cached_input"]) == pytest.approx(price_cached, rel=0.005)
        assert float(row["usd_per_1m_output"]) == pytest.approx(price_out, rel=0.005)
        checked += 1
    assert checked == 3  # gpt-4o, gpt-4o-mini and o3 have list-price traffic in the fake


def test_join_costs__side_by_side_per_day_and_project():
    client = uf.Client.fake()
    usage = client.completions("2026-10-01", "2026-10-08", bucket_width="1h", group_by="project_id")
    costs = client.costs("2026-10-01", "2026-10-08", group_by="project_id")
    joined = ops.join_costs(usage, costs)
    assert joined["amount"].sum() == pytest.approx(costs["amount"].sum())
    assert int(joined["input_tokens"].sum()) == int(usage["input_tokens"].sum())
    assert set(joined["project_id"]) == {"proj_chat", "proj_search", "proj_batch", "proj_lab"}
    with pytest.raises(uf.InvalidParameterError, match="must be daily"):
        ops.join_costs(usage, ops.resample(costs, "W-MON"))
    with pytest.raises(uf.InvalidParameterError, match="not a costs frame"):
        ops.join_costs(usage, usage)


def test_reconcile_and_batch_savings__explain_the_bill(october):
    _, usage, costs = october
    r = ops.reconcile(usage, costs)
    o3 = r.xs("o3-2025-04-16", level="model")
    assert o3["unexplained_usd"].abs().max() < 1e-6  # list-price traffic only: fully explained
    savings = ops.batch_savings(usage, costs)
    mini = savings.loc["gpt-4o-mini-2024-07-18"]
    assert float(mini["saved_usd"]) > 0 and float(mini["could_save_usd"]) > 0
    assert float(mini["batch_share_pct"]) > 30


def test_tier_savings__match_the_fake_tier_factors(october):
    _, usage, costs = october
    t = usage.usage.tier_savings(costs)
    gpt4o = t.xs("gpt-4o-2024-08-06", level="model")
    ratio = gpt4o["saved_usd"] / gpt4o["list_usd"]
    assert float(ratio["priority"]) == pytest.approx(1 - TIER_FACTORS["priority"], rel=0.005)
    assert float(ratio["batch"]) == pytest.approx(1 - TIER_FACTORS["batch"], rel=0.005)
    assert float(ratio["default"]) == pytest.approx(0.0, abs=1e-9)
    flex_only = t.xs("gpt-4.1-mini-2025-04-14", level="model")  # the bill has no list price for it: no guess
    assert pd.isna(flex_only.loc["flex", "saved_usd"])


def test_cache_efficiency__shares_and_na_for_old_answers():
    df = uf.Client.fake().completions("2026-10-01", "2026-10-08", group_by="model")
    e = ops.cache_efficiency(df, by="model", rule="W-MON")
    batch_only = e[e["model"] == "o3-2025-04-16"]["cached_share_pct"]
    assert ((batch_only > 20) & (batch_only < 40)).all()
    old = frame("completions", [(0, DAY, [{"input_tokens": 10, "output_tokens": 1, "num_model_requests": 1}])])
    assert ops.cache_efficiency(old)["cached_share_pct"].isna().all()


def test_anomalies__find_the_injected_spike_and_nothing_else():
    spend = uf.Client.fake().costs("2026-08-01", "2026-11-01", group_by="project_id")
    spike = pd.Timestamp(SPIKE_DAY * DAY, unit="s", tz="UTC")
    assert list(ops.anomalies(spend).index) == [spike]
    up = ops.anomalies(spend, by="project_id", direction="up")
    assert list(zip(up.index, up["project_id"], strict=True)) == [(spike, "proj_search")]


def test_anomalies__an_intermittent_project_on_a_short_history_is_no_false_spike():
    # proj_lab idles on random days; over three weeks two of its Thursdays were idle, and weekday factors from
    # them once turned the next working Thursday into z = 7076 (README, before this test).
    spend = uf.Client.fake().costs("2026-09-20", "2026-10-21", group_by="project_id")
    lab = spend[spend["project_id"] == "proj_lab"]
    assert (lab["amount"] < 1).sum() >= 8 and (lab["amount"] > 10).sum() >= 15  # really intermittent
    up = ops.anomalies(spend, by="project_id", direction="up")
    spike = pd.Timestamp(SPIKE_DAY * DAY, unit="s", tz="UTC")
    assert list(zip(up.index, up["project_id"], strict=True)) == [(spike, "proj_search")]  # the real one only
    october = spend[spend.index >= "2026-10-01"]  # too short a history to judge any day
    assert ops.anomalies(october, by="project_id", direction="up").empty


def test_anomalies__weekday_scores_are_each_weekdays_own_series_scored_alone():
    """The weekday z-scores are computed in one grouped pass: each must equal its weekday's series scored alone."""
    from usage_frames.analysis.forecast import _robust_z

    rng = np.random.default_rng(7)
    days = pd.date_range("2026-01-01", periods=90, freq="D", tz="UTC")
    s = pd.Series(rng.choice([0.0, 3.0, 50.0], 90) * rng.random(90), index=days)
    together = _robust_z(s, 8, 3, groups=days.day_of_week)[0]
    for weekday in range(7):
        alone = _robust_z(s[days.day_of_week == weekday], 8, 3)[0]
        pd.testing.assert_series_equal(together[days.day_of_week == weekday], alone)


def test_anomalies__a_quiet_series_has_none():
    rng = np.random.default_rng(3)
    days = pd.date_range("2026-01-01", periods=180, freq="D", tz="UTC")
    weekly = np.where(days.day_of_week >= 5, 0.4, 1.0)
    rows = [
        (
            int(d.timestamp()) - T0,
            int(d.timestamp()) - T0 + DAY,
            [{"amount": {"value": float(100 * w * rng.normal(1, 0.08)), "currency": "usd"}}],
        )
        for d, w in zip(days, weekly, strict=True)
    ]
    quiet = frame("costs", rows, start="2026-01-01", end="2026-06-30")
    assert ops.anomalies(quiet).empty


def test_forecast__lands_within_5_percent_on_a_known_trend():
    days = pd.date_range("2026-09-01", "2026-11-30", freq="D", tz="UTC")
    t = np.arange(len(days))
    weekly = np.where(days.day_of_week >= 5, 0.5, 1.1)
    truth = pd.Series((200 + 3 * t) * weekly, index=days)
    now = pd.Timestamp("2026-11-12 09:00", tz="UTC")
    seen = truth[truth.index < now.floor("D")]
    f = ops.forecast(seen, now=now)
    actual_total = truth[truth.index >= "2026-11-01"].sum()
    assert f.attrs["projected_total"] == pytest.approx(actual_total, rel=0.05)
    assert f.attrs["lower_total"] <= f.attrs["projected_total"] <= f.attrs["upper_total"]


def test_forecast__needs_a_week_of_settled_days():
    days = pd.date_range("2026-11-20", periods=5, freq="D", tz="UTC")
    with pytest.raises(uf.InvalidParameterError, match="fewer than 7 settled days"):
        ops.forecast(pd.Series(1.0, index=days), now=pd.Timestamp("2026-11-25", tz="UTC"))


def test_names__lists_follow_pagination_and_label_adds_names():
    from usage_frames.fake import FakeAPI

    api = FakeAPI(FakeOrganization(list_page_size=2))
    session = __import__("requests").Session()
    session.mount("https://api.openai.com/", __import__("usage_frames").fake.FakeAdapter(api))
    client = uf.Client("sk-admin-test", session=session)
    projects = uf.projects(client)
    assert len(projects) == 4  # two pages of two
    assert len([p for p, _ in api.faults.requests if p.endswith("/organization/projects")]) == 2
    keys = uf.api_keys(client)
    assert set(keys["project_id"]) == {"proj_chat", "proj_search", "proj_batch", "proj_lab"}
    costs = client.costs("2026-10-01", "2026-10-03", group_by=["project_id", "api_key_id"])
    named = costs.usage.label(client=client)
    assert named.columns.tolist()[:5] == ["end_time", "project_id", "project_name", "api_key_id", "api_key_name"]
    assert named.set_index("project_id")["project_name"].to_dict()["proj_search"] == "Search & RAG"
    assert uf.spend_alerts(client)["threshold_usd"].tolist() == [1500.0, 2500.0]
    assert uf.spend_limit(client) == 4000.0


def test_accessor__delegates_to_the_same_functions():
    df = uf.Client.fake().costs("2026-10-01", "2026-10-15", group_by="project_id")
    pd.testing.assert_frame_equal(df.usage.totals(by="project_id"), ops.totals(df, by="project_id"))
    pd.testing.assert_frame_equal(df.usage.resample("W-MON"), ops.resample(df, "W-MON"))
    assert df.usage.top_n.__doc__ == ops.top_n.__doc__


# --- issue 10: every alias tiles the data; zones and widths that would cut a bucket refuse --------------------

ALIASES = ["ME", "MS", "QE", "QS", "YE", "YS", "W", "W-SUN", "W-MON", "W-WED", "7D", "3D", "D", "2ME", "QE-NOV",
           "QS-FEB", "YE-JUN", "SMS", "SME", "BME", "BMS"]  # fmt: skip


def _check_tiles(df, out, column):
    """Rows tile the data and each value is the sum, by direct slicing, of the input rows inside its span."""
    spans = list(zip(out.index.unique(), out["end_time"].groupby(level=0).first(), strict=True))
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start  # no overlap
    assert spans[0][0] <= df.index.min() and spans[-1][1] >= df["end_time"].max()
    seen = 0
    for start, end in spans:
        inside = df[(df.index >= start) & (df["end_time"] <= end)]
        seen += len(inside)
        expected = sum(int(v) for v in inside[column].dropna()) if column != "amount" else float(inside[column].sum())
        got = out.loc[[start], column].sum()
        assert (int(got) == expected) if column != "amount" else got == pytest.approx(expected, rel=1e-12)
    assert seen == len(df)  # every input row inside exactly one span


@pytest.mark.parametrize("rule", ALIASES)
def test_resample__every_alias_tiles_and_sums_like_slicing(rule):
    costs = uf.Client.fake().costs("2025-12-15", "2026-11-20", group_by="project_id")
    out = ops.resample(costs, rule)
    _check_tiles(costs, out, "amount")
    assert (out["end_time"] > out.index).all()
    assert out.index[0] == costs.index[0]  # the first span is cut to the window, never before it
    # pandas' periods: a left-closed rule starts on its anchor, a right-closed one (W, ME...) the day after it.
    offset = pd.tseries.frequencies.to_offset(rule).base
    after = pd.Grouper(freq=rule).closed == "right"
    assert all(offset.is_on_offset(t - pd.Timedelta(days=1) if after else t) for t in out.index.unique()[1:])


def test_resample__month_end_is_the_calendar_month():
    costs = uf.Client.fake().costs("2026-06-01", "2026-11-01")
    truth = FakeOrganization().total("costs", "amount", "2026-07-01", "2026-08-01")
    for rule in ("ME", "MS"):
        july = ops.resample(costs, rule).loc["2026-07-01"]
        assert str(july["end_time"]) == "2026-08-01 00:00:00+00:00"
        assert float(july["amount"]) == pytest.approx(truth, rel=1e-9)  # 2061.43, not 1987.60
    quarter = ops.resample(costs, "QE").loc["2026-07-01"]
    assert float(quarter["amount"]) == pytest.approx(
        FakeOrganization().total("costs", "amount", "2026-07-01", "2026-10-01"), rel=1e-9
    )


@pytest.mark.parametrize("rule", ["h", "2h", "D", "W-MON", "MS", "ME"])
@pytest.mark.parametrize("tz", [None, "Europe/Berlin", "America/New_York"])
def test_resample__hourly_rules_and_zones_tile(rule, tz):
    hourly = uf.Client.fake().completions("2026-10-20", "2026-11-06", bucket_width="1h", group_by="model")
    _check_tiles(hourly, ops.resample(hourly, rule, tz=tz), "input_tokens")


@pytest.mark.parametrize("tz", ["Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "America/St_Johns"])
def test_resample__half_hour_zones_refuse_hourly_data_and_are_exact_from_minutes(tz):
    c = uf.Client.fake()
    hourly = c.embeddings("2026-10-01", "2026-10-04", bucket_width="1h")
    with pytest.raises(uf.InvalidParameterError, match=r"tz: .*bucket_width='1m'"):
        ops.resample(hourly, "D", tz=tz)
    minutes = c.embeddings("2026-10-01", "2026-10-03", bucket_width="1m")
    days = ops.resample(minutes, "D", tz=tz)
    for start, row in days.iloc[1:].iterrows():  # the first local day is cut to the window's start
        local = start.tz_convert(tz)
        assert (local.hour, local.minute) == (0, 0)
        lo, hi = max(start, minutes.index.min()), min(row["end_time"], minutes["end_time"].max())
        assert int(row["input_tokens"]) == FakeOrganization().total("embeddings", "input_tokens", lo, hi)


def test_resample__finer_than_the_data_refuses():
    daily = uf.Client.fake().costs("2026-10-01", "2026-10-05")
    with pytest.raises(uf.InvalidParameterError, match=r"rule: '1h' would cut the data's 1d buckets"):
        ops.resample(daily, "1h")
    with pytest.raises(uf.InvalidParameterError, match=r"rule: 'weekly' is not a pandas frequency"):
        ops.resample(daily, "weekly")
    with pytest.raises(uf.InvalidParameterError, match=r"tz: 'Mars/Olympus' is not a time zone"):
        ops.resample(daily, "D", tz="Mars/Olympus")


# --- issue 10: frames that lost their attrs ---------------------------------------------------------------------


def test_helpers__concat_of_two_periods_rebuilds_what_they_need():
    c = uf.Client.fake()
    a = c.completions("2026-09-01", "2026-10-01", group_by="model")
    b = c.completions("2026-10-01", "2026-11-01", group_by="model")
    both = pd.concat([a, b])
    assert both.attrs == {}  # pandas drops attrs that differ
    truth = FakeOrganization().total("completions", "input_tokens", "2026-09-01", "2026-11-01")
    assert int(ops.totals(both)["input_tokens"].iloc[0]) == truth
    assert int(ops.resample(both, "MS")["input_tokens"].sum()) == truth
    assert int(ops.pivot(both, "model").to_numpy().sum()) == truth
    assert ops.restore_attrs(both).attrs["bucket_width"] == "1d"
    assert ops.restore_attrs(both).attrs["group_by"] == ["model"]
    assert ops.restore_attrs(both, endpoint="decisions").attrs["endpoint"] == "decisions"
    assert len(ops.complete(both)) == len(ops.complete(ops.restore_attrs(both)))


def test_helpers__csv_round_trip_is_restored(tmp_path):
    costs = uf.Client.fake().costs("2026-10-01", "2026-10-08", group_by="project_id")
    costs.to_csv(tmp_path / "c.csv")
    back = pd.read_csv(tmp_path / "c.csv")
    with pytest.raises(uf.InvalidParameterError, match=r"restore_attrs\(df"):
        ops.totals(back)
    restored = ops.restore_attrs(back)
    assert restored.index.tz is not None and str(restored.index.tz) == "UTC"
    assert ops.totals(restored, by="project_id")["amount"].to_dict() == pytest.approx(
        ops.totals(costs, by="project_id")["amount"].to_dict()
    )
    assert restored.attrs["endpoint"] == "costs"


def test_restore_attrs__names_the_call_when_columns_tell_nothing():
    with pytest.raises(uf.InvalidParameterError, match=r"ops.restore_attrs\(df, endpoint=\.\.\.\)"):
        ops.resample(pd.DataFrame({"x": [1]}, index=pd.DatetimeIndex(["2026-10-01"], tz="UTC")), "D")


def test_resample__quarter_hours_of_hourly_data_refuse():
    hourly = uf.Client.fake().completions("2026-10-20", "2026-10-21", bucket_width="1h")
    with pytest.raises(uf.InvalidParameterError, match=r"rule: '15min' would cut the data's 1h buckets"):
        ops.resample(hourly, "15min")


# --- issue 10: results follow the data's "as of" time, never the machine's clock --------------------------------


def _no_wall_clock(monkeypatch):
    """Make any use of the machine's clock inside a helper fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("a helper read the machine's clock")

    monkeypatch.setattr(pd.Timestamp, "now", refuse)


def test_forecast__same_answer_from_two_clients_with_the_same_clock_on_any_machine_date():
    october = pd.Timestamp("2026-10-21", tz="UTC")
    sample = uf.Client.sample().costs("2026-09-01", "2026-11-01", group_by="project_id")
    fake = uf.Client.fake(now=october).costs("2026-09-01", "2026-11-01", group_by="project_id")
    assert sample.attrs["as_of"] == fake.attrs["as_of"] == october.isoformat()
    a, b = ops.forecast(sample).attrs, ops.forecast(fake).attrs
    assert a["projected_total"] == pytest.approx(b["projected_total"], rel=1e-12)
    assert a["month"] == "2026-10-01T00:00:00+00:00"
    truth = FakeOrganization().total("costs", "amount", "2026-10-01", "2026-10-21")
    assert a["month_to_date"] == pytest.approx(truth, rel=1e-9)  # not 0.0 as when December was projected


def test_forecast__a_finished_month_projects_to_its_own_total_whatever_the_clock(monkeypatch):
    truth = FakeOrganization().total("costs", "amount", "2026-10-01", "2026-11-01")
    frames = [uf.Client.fake(now=pd.Timestamp(day, tz="UTC")).costs("2026-09-01", "2026-11-01")
              for day in ("2026-11-05", "2026-12-01", "2027-03-15")]  # fmt: skip
    assert len({f.attrs["as_of"] for f in frames}) == 3  # three different clocks
    _no_wall_clock(monkeypatch)
    for costs in frames:
        f = ops.forecast(costs).attrs
        assert f["month"] == "2026-10-01T00:00:00+00:00"
        assert f["projected_total"] == pytest.approx(truth, rel=1e-9)
        assert f["month_to_date"] == pytest.approx(truth, rel=1e-9)


def test_forecast__a_spike_day_does_not_tilt_the_month():
    """On 2026-10-21 the fake's October lands at its ground truth within 2 % (the spike of the 14th is left out)."""
    costs = uf.Client.fake(now=pd.Timestamp("2026-10-21", tz="UTC")).costs("2026-09-01", "2026-11-01")
    truth = FakeOrganization().total("costs", "amount", "2026-10-01", "2026-11-01")
    assert ops.forecast(costs).attrs["projected_total"] == pytest.approx(truth, rel=0.02)


def test_provisional_and_anomalies__read_the_data_clock_not_the_machine(monkeypatch):
    costs = uf.Client.fake(now=pd.Timestamp("2026-10-21 06:00", tz="UTC")).costs("2026-09-01", "2026-11-01")
    _no_wall_clock(monkeypatch)
    flags = ops.provisional(costs)["provisional"]
    # Costs settle within 48 h of the as-of time: Oct 19, 20 and the open day (ends after Oct 19 06:00).
    assert [str(d.date()) for d in flags[flags].index] == ["2026-10-19", "2026-10-20", "2026-10-21"]
    assert [str(d.date()) for d in ops.anomalies(costs).index] == ["2026-10-14"]
    partial = costs.copy()
    partial.loc[partial.index[-1], "amount"] = 0.01  # the last day still filling looks like a drop
    assert "2026-10-21" not in [str(d.date()) for d in ops.anomalies(partial, direction="down").index]


def test_month_to_date_plot__titles_the_data_month(monkeypatch):
    costs = uf.Client.fake(now=pd.Timestamp("2026-12-01", tz="UTC")).costs("2026-09-01", "2026-11-01")
    _no_wall_clock(monkeypatch)
    ax = plot.month_to_date(costs)
    assert ax.get_title().startswith("October 2026")


# --- issue 10: line items as real bills name them (api-notes.md section 11) ------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("gpt-audio-mini-2025-12-15 audio, input", (None, "gpt-audio-mini-2025-12-15", "audio", "input", None)),
        ("gpt-image-2-2026-04-21 image, cached input", (None, "gpt-image-2-2026-04-21", "image", "cached input", None)),
        ("priority | gpt-5.6-sol, output, long context", ("priority", "gpt-5.6-sol", None, "output", "long")),
        ("gpt-4o-mini-2024-07-18, cached input", (None, "gpt-4o-mini-2024-07-18", None, "cached input", None)),
        ("gpt-4o-mini-2024-07-18, cache writes", (None, "gpt-4o-mini-2024-07-18", None, "cache writes", None)),
        ("evals | gpt-4o-mini-2024-07-18 text, input", ("evals", "gpt-4o-mini-2024-07-18", "text", "input", None)),
        ("gpt-5.6-sol, input, sideways", ("gpt-5.6-sol, input, sideways", None, None, None, None)),
        ("web search tool calls", ("web search tool calls", None, None, None, None)),
        ("Vector storage", ("Vector storage", None, None, None, None)),
    ],
)
def test_parse_line_item__real_bill_names(item, expected):
    parsed = uf.parse_line_item(item)
    assert tuple(parsed[k] for k in ("product", "model", "modality", "kind", "context")) == expected


def bill(rows, start="2026-10-01", end="2026-10-02"):
    """A one-day costs frame grouped by line item: rows of (line item, USD, tokens)."""
    results = [{"line_item": item, "amount": {"value": usd, "currency": "usd"}, "quantity": tokens,
                "quantity_unit": "tokens"} for item, usd, tokens in rows]  # fmt: skip
    return frame("costs", [(0, DAY, results)], group_by=["line_item"], start=start, end=end)


def usage_row(model, **tokens):
    counts = {"input_tokens": 0, "output_tokens": 0, "num_model_requests": 1, **tokens}
    return frame("completions", [(0, DAY, [{"model": model, **counts}])], group_by=["model"], end="2026-10-02")


def test_unit_prices_and_unit_costs__modality_cache_writes_and_long_context():
    model = "gpt-audio-mini-2025-12-15"
    costs = bill([
        (f"{model}, input", 1.0, 1_000_000),  # text: $1 per 1M
        (f"{model} audio, input", 10.0, 1_000_000),  # audio: $10 per 1M
        (f"{model}, cache writes", 0.5, 400_000),
        (f"{model}, output", 4.0, 1_000_000),
        (f"{model}, output, long context", 8.0, 1_000_000),
    ])  # fmt: skip
    prices = ops.unit_prices(costs)
    assert prices.loc[f"{model} audio, input", "usd_per_1m"] == pytest.approx(10.0)
    assert prices.loc[f"{model} audio, input", "modality"] == "audio"
    assert prices.loc[f"{model}, output, long context", "context"] == "long"
    assert prices.loc[f"{model}, cache writes", "usd_per_1m"] == pytest.approx(1.25)
    usage = usage_row(model, input_tokens=2_400_000, input_uncached_tokens=2_000_000, input_text_tokens=1_000_000,
                      input_audio_tokens=1_000_000, input_cache_write_tokens=400_000, input_cached_tokens=0,
                      output_tokens=2_000_000, output_text_tokens=2_000_000)  # fmt: skip
    per = ops.unit_costs(usage, costs).loc[model]
    assert float(per["usd_input"]) == pytest.approx(11.5)  # text + audio + cache writes: all fresh input
    assert float(per["usd_output"]) == pytest.approx(12.0)  # long context is output too
    assert float(per["usd"]) == pytest.approx(23.5)


def test_reconcile__prices_each_modality_at_its_own_line_item():
    model = "gpt-audio-mini-2025-12-15"
    costs = bill([(f"{model}, input", 1.0, 1_000_000), (f"{model} audio, input", 10.0, 1_000_000),
                  (f"{model}, cache writes", 0.25, 200_000), (f"{model}, output", 4.0, 1_000_000),
                  (f"{model}, output, long context", 8.0, 1_000_000)])  # fmt: skip
    usage = usage_row(model, input_tokens=2_200_000, input_uncached_tokens=2_000_000, input_text_tokens=1_000_000,
                      input_audio_tokens=1_000_000, input_cache_write_tokens=200_000, input_cached_tokens=0,
                      output_tokens=2_000_000, output_text_tokens=2_000_000)  # fmt: skip
    row = ops.reconcile(usage, costs).iloc[0]
    # Text 1M x $1 + audio 1M x $10 + writes 0.2M x $1.25 + output 2M x $4 (long context's surcharge unexplained).
    assert float(row["priced_usd"]) == pytest.approx(1 + 10 + 0.25 + 8)
    assert float(row["billed_usd"]) == pytest.approx(23.25)
    assert float(row["unexplained_usd"]) == pytest.approx(4.0)  # the long-context surcharge


def test_reconcile__a_model_without_a_list_price_is_unpriced_not_unexplained():
    model = "gpt-4.1-mini-2025-04-14"
    costs = bill([(f"flex | {model}, input", 0.2, 1_000_000), (f"flex | {model}, output", 0.8, 1_000_000)])
    usage = usage_row(model, input_tokens=1_000_000, output_tokens=1_000_000)
    row = ops.reconcile(usage, costs).iloc[0]
    assert float(row["billed_usd"]) == pytest.approx(1.0)
    assert pd.isna(row["priced_usd"]) and pd.isna(row["unexplained_usd"])  # not $1.00 "unexplained"


def test_tier_savings__priority_long_context_and_audio_from_the_bill():
    model = "gpt-5.6-sol"
    costs = bill([(f"{model}, input", 1.0, 1_000_000), (f"{model}, output", 8.0, 1_000_000),
                  (f"priority | {model}, input", 2.0, 1_000_000), (f"priority | {model}, output", 16.0, 1_000_000),
                  (f"priority | {model}, output, long context", 32.0, 1_000_000)])  # fmt: skip
    usage = frame("completions", [(0, DAY, [
        {"model": model, "batch": False, "service_tier": "priority", "input_tokens": 1_000_000,
         "output_tokens": 2_000_000, "num_model_requests": 3}])],
        group_by=["model", "batch", "service_tier"], end="2026-10-02")  # fmt: skip
    row = ops.tier_savings(usage, costs).loc[(model, "priority")]
    assert float(row["list_usd"]) == pytest.approx(1 + 16)
    assert float(row["actual_usd"]) == pytest.approx(2 + 32)  # at the short-context priority rates
    assert float(row["saved_usd"]) == pytest.approx(-17)


def test_fake__names_line_items_as_real_bills_do(october):
    _, _, costs = october
    items = set(costs["line_item"].astype(str))
    assert "gpt-4o-mini-2024-07-18, cache writes" in items
    assert "priority | gpt-4o-2024-08-06 audio, input" in items
    assert "gpt-4o-2024-08-06 image, cached input" in items
    parsed = ops.split_line_items(costs)
    truth = FakeOrganization().total("costs", "amount", "2026-10-01", "2026-11-01")
    assert float(parsed["amount"].sum()) == pytest.approx(truth, rel=1e-12)
    assert parsed.loc[parsed["model"].notna() & parsed["kind"].isna()].empty  # every token item is read whole


# --- issue 10, done when: random frames through random helper chains, against plain ints and Decimal -----------


RULES = ["h", "D", "W-MON", "W-SUN", "W-WED", "MS", "ME", "QS", "QE", "QE-NOV", "YS", "YE", "YE-JUN"]
ZONES = [None, "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham",
         "America/St_Johns", "Australia/Lord_Howe"]  # fmt: skip
DAYS = ["2026-03-27", "2026-03-29", "2026-06-29", "2026-09-29", "2026-10-24", "2026-12-30"]
WIDTHS = {"1m": 60, "1h": 3600, "1d": 86400}
MODELS = ["m-a", "m-b", "m-c"]


def bucket_key(rule, when, origin):
    """Which bucket of ``rule`` a local wall time falls in, from the calendar fields alone (no pandas offsets).

    pandas' meaning of each alias: ``"W-MON"`` is the week ending Monday; ``"h"`` counts whole hours from the
    local midnight that starts the frame (``origin``), so a repeated hour at the end of DST is two hours.
    """
    day = when.date()
    return {
        "h": int((when - origin).total_seconds() // 3600), "D": day,
        "W-MON": day.toordinal() + (0 - day.weekday()) % 7, "W-SUN": day.toordinal() + (6 - day.weekday()) % 7,
        "W-WED": day.toordinal() + (2 - day.weekday()) % 7,
        "QE-NOV": (12 * day.year + day.month) // 3,  # quarters Dec-Feb, Mar-May, Jun-Aug, Sep-Nov
        "YE-JUN": day.year + (day.month >= 7),  # years July to June
        "MS": (day.year, day.month), "ME": (day.year, day.month),
        "QS": (day.year, (day.month - 1) // 3), "QE": (day.year, (day.month - 1) // 3),
        "YS": day.year, "YE": day.year,
    }[rule]  # fmt: skip


def local(ts, zone):
    return ts.to_pydatetime().astimezone(ZoneInfo(zone or "UTC"))


@st.composite
def usage_frames_(draw):
    """A completions frame by model: random width, start (DST and month edges), gaps, absent fields, big counts."""
    width = draw(st.sampled_from(list(WIDTHS)))
    seconds = WIDTHS[width]
    n = draw(st.integers(0, {"1m": 300, "1h": 300, "1d": 200}[width]))
    start = pd.Timestamp(draw(st.sampled_from(DAYS)), tz="UTC")
    if width != "1d":
        start += pd.Timedelta(hours=draw(st.integers(0, 23)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))  # bulk values: fast, still reproducible
    t0 = int(start.timestamp())
    buckets = []
    for i in range(n):
        results = []
        for m in MODELS:
            if rng.random() < 0.4:
                continue
            row = {"object": "organization.usage.completions.result", "model": m,
                   "input_tokens": int(rng.integers(0, 2**40)), "output_tokens": int(rng.integers(0, 2**40)),
                   "num_model_requests": int(rng.integers(0, 10**6))}  # fmt: skip
            if rng.random() < 0.5:
                row["input_cached_tokens"] = int(rng.integers(0, 2**40))
            results.append(row)
        buckets.append(bucket(t0 + i * seconds, t0 + (i + 1) * seconds, *results))
    end = pd.Timestamp(t0 + max(n, 1) * seconds, unit="s", tz="UTC")
    query = build_query("completions", start, end, bucket_width=width, group_by=["model"], now=end)
    return to_frame([page(*buckets)], query)


def raw_rows(df):
    """The frame's rows as plain Python: (start, end, model, {field: int or None})."""
    fields = ["input_tokens", "output_tokens", "input_cached_tokens"]
    return [(s, e, m, {f: (None if pd.isna(v) else int(v)) for f, v in zip(fields, vals, strict=True)})
            for s, e, m, *vals in zip(df.index, df["end_time"], df["model"].astype(str),
                                      *(df[f] for f in fields), strict=True)]  # fmt: skip


def midnight(rows, zone):
    """The local midnight of the frame's first start: pandas' origin for fixed-duration rules."""
    first = local(min(s for s, *_ in rows), zone)
    return first.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(first.tzinfo)


def expected_resample(rows, rule, zone):
    """Plain-int sums per (bucket, model), or None when some input bucket straddles two output buckets."""
    out = {}
    origin = midnight(rows, zone) if rows else None
    for s, e, m, values in rows:
        key = bucket_key(rule, local(s, zone), origin)
        if bucket_key(rule, local(e - pd.Timedelta(microseconds=1), zone), origin) != key:
            return None
        cell = out.setdefault((key, m), {})
        for f, v in values.items():
            if v is not None:
                cell[f] = (cell.get(f) or 0) + v  # <NA> only where every input is <NA>
            else:
                cell.setdefault(f, None)
    return out


def observed(result, rule, zone, origin):
    rows = raw_rows(result)
    window = pd.Timestamp(result.attrs["start"]), pd.Timestamp(result.attrs["end"])
    for s, e, _, _ in rows:  # each span is one bucket of the rule, cut to the window at both ends
        key = bucket_key(rule, local(s, zone), origin)
        assert key == bucket_key(rule, local(e - pd.Timedelta(microseconds=1), zone), origin)
        assert e == window[1] or bucket_key(rule, local(e, zone), origin) != key
        assert s == window[0] or bucket_key(rule, local(s - pd.Timedelta(microseconds=1), zone), origin) != key
        assert s.tzinfo is not None and str(s.tz) == "UTC"
    return {(bucket_key(rule, local(s, zone), origin), m): v for s, _, m, v in rows}


def matches(expected, got):
    for cell, values in expected.items():
        for f, v in values.items():
            assert got[cell][f] == v, (cell, f)
    assert set(got) == set(expected)


chains = st.lists(st.tuples(st.sampled_from(RULES), st.sampled_from(ZONES)), min_size=1, max_size=2)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(df=usage_frames_(), chain=chains, last=st.sampled_from(["totals", "pivot", "share", "none"]))
def test_chains__every_total_matches_plain_python(df, chain, last):
    frame_, rows = df, raw_rows(df)
    for rule, zone in chain:
        expected = expected_resample(rows, rule, zone)
        if expected is None:  # the rule or zone would cut an input bucket: refusing is the only right answer
            with pytest.raises(uf.InvalidParameterError):
                ops.resample(frame_, rule, tz=zone)
            return
        origin = midnight(rows, zone) if rows else None
        frame_ = ops.resample(frame_, rule, tz=zone)
        matches(expected, observed(frame_, rule, zone, origin))
        rows = raw_rows(frame_)
    per_model = {}
    for _, _, m, values in raw_rows(df):
        per_model[m] = per_model.get(m, 0) + values["input_tokens"]
    if last == "totals":
        got = ops.totals(frame_, by="model")["input_tokens"]
        assert {str(k): int(v) for k, v in got.items()} == per_model
    elif last == "pivot":
        wide = ops.pivot(frame_, "model", "input_tokens")
        assert {str(c): sum(int(v) for v in wide[c]) for c in wide.columns} == per_model
    elif last == "share":
        shares = ops.share(frame_, by="model", values="input_tokens")["share_pct"]
        total = sum(per_model.values())
        for m, pct in shares.items():
            exact = Decimal(per_model[str(m)]) * 100 / Decimal(total) if total else None
            assert exact is None or float(pct) == pytest.approx(float(exact), rel=1e-9, abs=1e-9)
    if per_model:  # nothing lost or doubled
        assert int(ops.totals(frame_)["input_tokens"].iloc[0]) == sum(per_model.values())


@st.composite
def costs_and_usage(draw):
    days = draw(st.integers(1, 40))
    start = pd.Timestamp(draw(st.sampled_from(DAYS)), tz="UTC")
    t0 = int(start.timestamp())
    projects = ["proj_a", "proj_b"]
    usage_buckets, cost_buckets, truth = [], [], {}
    hourly = draw(st.booleans())
    step = 3600 if hourly else DAY
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    for i in range(days * (24 if hourly else 1)):
        results = [{"object": "organization.usage.completions.result", "project_id": p,
                    "input_tokens": int(rng.integers(0, 2**35)), "output_tokens": int(rng.integers(0, 2**35)),
                    "num_model_requests": 1} for p in projects if rng.random() < 0.6]  # fmt: skip
        usage_buckets.append(bucket(t0 + i * step, t0 + (i + 1) * step, *results))
        for r in results:
            cell = truth.setdefault((i * step // DAY, r["project_id"]), {"tokens": 0, "usd": Decimal(0)})
            cell["tokens"] += r["input_tokens"] + r["output_tokens"]
    for d in range(days):
        results = []
        for p in [p for p in projects if rng.random() < 0.7]:
            usd = Decimal(int(rng.integers(0, 10**9))) / Decimal(10**6)
            results.append({"object": "organization.costs.result", "project_id": p,
                            "amount": {"value": str(usd), "currency": "usd"}})  # fmt: skip
            truth.setdefault((d, p), {"tokens": 0, "usd": Decimal(0)})["usd"] += usd
        cost_buckets.append(bucket(t0 + d * DAY, t0 + (d + 1) * DAY, *results))
    end = start + pd.Timedelta(days=days)

    def make(endpoint, buckets, width):
        return to_frame([page(*buckets)], build_query(endpoint, start, end, bucket_width=width, group_by=["project_id"],
                                            now=end))  # fmt: skip

    return make("completions", usage_buckets, "1h" if hourly else "1d"), make("costs", cost_buckets, "1d"), truth


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=costs_and_usage())
def test_chains__join_costs_matches_plain_python(data):
    usage, costs, truth = data
    with warnings.catch_warnings():  # a project with usage and no costs is warned about, and still joined
        warnings.simplefilter("ignore", uf.UsageFramesWarning)
        joined = ops.join_costs(usage, costs)
    t0 = usage.attrs["start"]
    day0 = int(pd.Timestamp(t0).timestamp()) // DAY
    got = {}
    for day, p, tokens, usd in zip(joined.index, joined["project_id"].astype(str),
                                   (joined["input_tokens"].fillna(0) + joined["output_tokens"].fillna(0)),
                                   joined["amount"], strict=True):  # fmt: skip
        got[(int(day.timestamp()) // DAY - day0, p)] = (int(tokens), float(usd))
    assert set(got) == set(truth)
    for cell, values in truth.items():
        assert got[cell][0] == values["tokens"]
        assert got[cell][1] == pytest.approx(float(values["usd"]), rel=1e-12, abs=1e-12)


def test_join_costs__warns_when_periods_or_keys_differ():
    c = uf.Client.fake()
    usage = c.completions("2026-10-01", "2026-10-08", group_by="project_id")
    with pytest.warns(uf.UsageFramesWarning, match=r"usage covers 2026-10-01..2026-10-08 but costs .*-10-15"):
        ops.join_costs(usage, c.costs("2026-10-01", "2026-10-15", group_by="project_id"))
    with pytest.warns(uf.UsageFramesWarning, match="only usage is grouped by project_id"):
        ops.join_costs(usage, c.costs("2026-10-01", "2026-10-08"))
    with pytest.warns(uf.UsageFramesWarning, match="proj_batch, proj_lab has usage but no costs"):
        ops.join_costs(usage, c.costs("2026-10-01", "2026-10-08", group_by="project_id",
                                      project_ids=["proj_chat", "proj_search"]))  # fmt: skip
    ops.join_costs(usage, c.costs("2026-10-01", "2026-10-08", group_by="project_id"))  # aligned: silent (warnings fail)


def test_helpers__parquet_written_elsewhere_without_attrs(tmp_path):
    """A Parquet file from another tool has the index and dtypes but no attrs: helpers read the columns."""
    df = uf.Client.fake().completions("2026-10-01", "2026-10-15", bucket_width="1h", group_by="model")
    df.to_parquet(tmp_path / "u.parquet")
    back = pd.read_parquet(tmp_path / "u.parquet")
    back.attrs = {}
    truth = FakeOrganization().total("completions", "input_tokens", "2026-10-01", "2026-10-15")
    assert int(back.usage.resample("D")["input_tokens"].sum()) == truth
    assert back.usage.restore_attrs().attrs["bucket_width"] == "1h"
    assert back.usage.as_of() == pd.Timestamp("2026-10-15", tz="UTC")  # the last bucket's end
    with pytest.raises(uf.InvalidParameterError, match=r"rule: '15min' would cut the data's 1h buckets"):
        back.usage.resample("15min")


def test_resample__local_hours_are_pandas_hours_through_dst():
    c = uf.Client.fake()
    berlin = c.embeddings("2026-10-24 20:00", "2026-10-25 04:00", bucket_width="1h")
    hours = ops.resample(berlin, "h", tz="Europe/Berlin")
    assert len(hours) == len(berlin)  # the repeated 02:00 is two buckets, not one of two hours
    assert [t.tz_convert("Europe/Berlin").hour for t in hours.index].count(2) == 2
    # Lord Howe's clocks go back 30 minutes on 2026-04-05. pandas counts hours from the first local midnight
    # (13:00 UTC), so its hours stay whole UTC hours (local :30 after the change) and cut nothing.
    lord_howe = c.embeddings("2026-04-04 12:00", "2026-04-04 18:00", bucket_width="1h")
    local_hours = ops.resample(lord_howe, "h", tz="Australia/Lord_Howe")
    theirs = lord_howe.tz_convert("Australia/Lord_Howe").resample("h")["input_tokens"].sum()
    assert local_hours["input_tokens"].tolist() == theirs.tolist()
    assert [t.tz_convert("Australia/Lord_Howe").minute for t in local_hours.index] == [0, 0, 0, 30, 30, 30]
    assert int(ops.resample(lord_howe, "D", tz="Australia/Lord_Howe")["input_tokens"].sum()) == int(
        lord_howe["input_tokens"].sum()
    )


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda df, u: ops.resample(df, 3), "rule"),
        (lambda df, u: ops.cache_efficiency(u, rule=3), "rule"),
        (lambda df, u: ops.top_n(df, "x", by="project_id"), "n"),
        (lambda df, u: ops.top_n(df, -1, by="project_id"), "n"),
        (lambda df, u: ops.provisional(df, now="x"), "now"),
        (lambda df, u: ops.provisional(df, now=3j), "now"),
        (lambda df, u: ops.forecast(df, now=object()), "now"),
        (lambda df, u: ops.complete("x"), "df"),
        (lambda df, u: ops.label("x"), "df"),
        (lambda df, u: ops.anomalies(df, window="x"), "window"),
        (lambda df, u: ops.anomalies(df, threshold="x"), "threshold"),
        (lambda df, u: ops.anomalies(df, threshold=float("nan")), "threshold"),
    ],
)
def test_helpers__wrongly_typed_arguments_are_errors_naming_the_argument(call, argument):
    # Once raw TypeError / AttributeError from pandas (issue 12's list of what escaped the helpers).
    client = uf.Client.fake()
    df = client.costs("2026-10-01", "2026-10-08", group_by="project_id")
    usage = client.completions("2026-10-01", "2026-10-08", group_by="model")
    with pytest.raises(uf.InvalidParameterError) as caught:
        call(df, usage)
    assert caught.value.argument == argument
