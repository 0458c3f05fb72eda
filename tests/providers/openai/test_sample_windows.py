"""The sample answers a window exactly as the API would, or refuses it: never whole days for 06:00 to 12:00.

Its answers are compared with the fake organization's own (the API's buckets, partial first and last ones
included) and with its ground truth, ``FakeOrganization.total``; every window it cannot answer exactly raises
``CacheMissError``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import usage_frames as uf
from usage_frames.providers.openai.endpoints import ENDPOINTS
from usage_frames.providers.openai.fake import FakeOrganization
from usage_frames.providers.openai.sample import HOURLY_START, SAMPLE_NOW, SAMPLE_START

ORG = FakeOrganization(now=SAMPLE_NOW)
FAKE = uf.Client.fake(ORG, now=SAMPLE_NOW)
SAMPLE = uf.Client.sample()


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    keys = frame.attrs["group_by"]
    out = frame.reset_index().astype({k: "object" for k in keys})
    return out.sort_values(["start_time", *keys], kind="stable").reset_index(drop=True)


def assert_same_answer(answer: pd.DataFrame, truth: pd.DataFrame) -> None:
    """The same buckets (partial edges included), rows, columns, dtypes and values; money to 1e-9."""
    assert answer.attrs["start"] == truth.attrs["start"] and answer.attrs["end"] == truth.attrs["end"]
    assert answer.dtypes.astype(str).to_dict() == truth.dtypes.astype(str).to_dict()  # categories may differ
    got, want = _rows(answer), _rows(truth)
    floats = [c for c in want.columns if str(want[c].dtype) in ("float64", "Float64")]
    pd.testing.assert_frame_equal(got.drop(columns=floats), want.drop(columns=floats))
    for column in floats:
        assert got[column].astype(float).to_numpy() == pytest.approx(
            want[column].astype(float).to_numpy(), rel=1e-9, nan_ok=True
        )


def test_sample__six_hours_are_six_hours_not_the_day():
    df = SAMPLE.completions("2026-10-15T06:00", "2026-10-15T12:00")
    assert [str(t) for t in df.index] == ["2026-10-15 06:00:00+00:00"]
    assert [str(t) for t in df["end_time"]] == ["2026-10-15 12:00:00+00:00"]
    truth = ORG.total("completions", "input_tokens", "2026-10-15T06:00", "2026-10-15T12:00")
    assert int(df["input_tokens"].sum()) == truth == 6_269_007  # not the whole day's 33,802,166
    assert_same_answer(df, FAKE.completions("2026-10-15T06:00", "2026-10-15T12:00"))


@pytest.mark.parametrize("group_by", [None, "project_id", "model", ["project_id", "model"]])
def test_sample__a_berlin_midnight_window_is_its_48_hours_with_the_apis_partial_days(group_by):
    start, end = "2026-10-14T22:00", "2026-10-16T22:00"  # 2026-10-15 and 16 in Berlin (UTC+2)
    df = SAMPLE.completions(start, end, group_by=group_by)
    assert [f"{t:%d %H:%M}" for t in df.index.unique()] == ["14 22:00", "15 00:00", "16 00:00"]
    assert f"{df['end_time'].max():%d %H:%M}" == "16 22:00"
    assert int(df["input_tokens"].sum()) == ORG.total("completions", "input_tokens", start, end)
    assert_same_answer(df, FAKE.completions(start, end, group_by=group_by))


@pytest.mark.parametrize("key", ["project_id", "model"])
def test_sample__holds_hourly_completions_by_project_and_by_model(key):
    start, end = "2026-10-13T05:00", "2026-10-15T17:00"
    df = SAMPLE.completions(start, end, bucket_width="1h", group_by=key)
    assert df[key].nunique() == 4 and len(df.index.unique()) == 60
    assert_same_answer(df, FAKE.completions(start, end, bucket_width="1h", group_by=key))
    chat = SAMPLE.completions(start, end, bucket_width="1h", project_ids="proj_chat", group_by="model")
    assert int(chat["output_tokens"].sum()) == ORG.total("completions", "output_tokens", start, end,
                                                         project_id="proj_chat")  # fmt: skip


@pytest.mark.parametrize(
    ("endpoint", "start", "end", "kwargs"),
    [
        ("completions", "2026-09-01T06:00", "2026-09-02", {}),  # before the hours: whole days only
        ("completions", "2026-10-15T06:00", "2026-10-16", {"group_by": "user_id"}),  # no hours by user
        ("completions", "2026-10-15T06:00", "2026-10-16", {"models": "o3-2025-04-16", "batch": True}),
        ("completions", "2026-10-15T06:30", "2026-10-15T12:00", {"bucket_width": "1h"}),  # inside an hour
        ("completions", "2026-10-15", "2026-10-15T12:30", {}),
        ("embeddings", "2026-10-14T22:00", "2026-10-16T22:00", {}),  # embeddings are recorded daily
        ("vector_stores", "2026-10-01T12:00", "2026-10-03", {}),
        ("completions", "2026-03-31", "2026-04-03", {}),  # before the recordings
    ],
)
def test_sample__refuses_a_window_it_could_only_answer_with_more(endpoint, start, end, kwargs):
    with pytest.raises(uf.CacheMissError, match="is not in the sample data"):
        SAMPLE.fetch(endpoint, start, end, **kwargs)


def test_sample__costs_are_whole_utc_days_as_the_api_sends_them():
    """Costs buckets are whole UTC days whatever the start (api-notes 7.6): the fake and the sample agree."""
    df = SAMPLE.costs("2026-10-15T06:00", "2026-10-15T12:00", group_by="project_id")
    assert_same_answer(df, FAKE.costs("2026-10-15T06:00", "2026-10-15T12:00", group_by="project_id"))
    assert [str(t) for t in df["end_time"].unique()] == ["2026-10-16 00:00:00+00:00"]


# --- every window: the same answer as the fake, or CacheMissError ------------------------------------------------

KEYS = {
    "completions": [(), ("model",), ("project_id",), ("project_id", "model"), ("user_id",), ("batch", "model")],
    "embeddings": [(), ("model",)],
    "vector_stores": [(), ("project_id",)],
    "costs": [(), ("project_id",), ("line_item",), ("project_id", "line_item"), ("user_id",)],
}
FILTERS = {"completions": [{}, {"project_ids": "proj_chat"}, {"models": "gpt-4o-2024-08-06"}, {"batch": False}],
           "embeddings": [{}], "vector_stores": [{}], "costs": [{}, {"project_ids": "proj_search"}]}  # fmt: skip
DAYS = (SAMPLE_NOW - SAMPLE_START).days


@st.composite
def windows(draw):
    endpoint = draw(st.sampled_from(["completions", "completions", "completions", "embeddings", "vector_stores",
                                     "costs"]))  # fmt: skip
    recent = draw(st.booleans())  # half of the windows in the hourly month
    day = draw(st.integers(DAYS - 32 if recent else 0, DAYS - 1))
    grain = draw(st.sampled_from(["day", "day", "hour", "hour", "minute"]))
    start = SAMPLE_START + pd.Timedelta(days=day)
    if grain != "day":
        start += pd.Timedelta(hours=draw(st.integers(0, 23)))
    if grain == "minute":
        start += pd.Timedelta(minutes=draw(st.sampled_from([1, 30, 59])))
    length = pd.Timedelta(hours=draw(st.sampled_from([1, 6, 24, 48, 24 * 9]))) if grain != "day" else \
        pd.Timedelta(days=draw(st.integers(1, 20)))  # fmt: skip
    if draw(st.integers(0, 2)) == 0:
        length += pd.Timedelta(hours=draw(st.integers(1, 23)))  # an end inside a day
    end = min(start + length, SAMPLE_NOW)
    widths = [w for w in ENDPOINTS[endpoint].bucket_widths if w != "1m" or length <= pd.Timedelta(hours=6)]
    width = draw(st.sampled_from(widths))
    kwargs = {"bucket_width": width, "group_by": list(draw(st.sampled_from(KEYS[endpoint])))}
    kwargs.update(draw(st.sampled_from(FILTERS[endpoint])))
    return endpoint, start, end, kwargs


def must_answer(endpoint: str, start: pd.Timestamp, end: pd.Timestamp, kwargs: dict) -> bool:
    """What the sample holds, said independently of its code: whole days daily; whole hours of the hourly month."""
    days = start == start.normalize() and end == end.normalize()
    if kwargs["bucket_width"] == "1d" and (days or endpoint == "costs"):
        return not (endpoint == "costs" and "user_id" in kwargs["group_by"] and "project_ids" in kwargs)
    hours = start == start.floor("h") and end == end.floor("h") and start >= HOURLY_START
    keys = set(kwargs["group_by"]) | {"project_id" for k in kwargs if k == "project_ids"} | \
        {"model" for k in kwargs if k == "models"} | {"batch" for k in kwargs if k == "batch"}  # fmt: skip
    return endpoint == "completions" and hours and kwargs["bucket_width"] != "1m" and keys <= {"project_id", "model"}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(window=windows())
def test_sample__every_window_is_the_fakes_answer_or_a_cache_miss(window):
    endpoint, start, end, kwargs = window
    try:
        answer = SAMPLE.fetch(endpoint, start, end, **kwargs)
    except uf.CacheMissError:
        event("refused")
        assert not must_answer(endpoint, start, end, kwargs), "the sample holds this window: it must answer"
        return
    event("answered" if not answer.empty else "answered, empty")
    assert_same_answer(answer, FAKE.fetch(endpoint, start, end, **kwargs))
    if endpoint in ("completions", "embeddings"):  # and the ground truth over exactly [start, end)
        where = {f.key: kwargs[f.name] for f in ENDPOINTS[endpoint].filters if f.name in kwargs}
        assert int(answer["input_tokens"].sum()) == ORG.total(endpoint, "input_tokens", start, end, **where)
