"""A pandas user's first moves work on every endpoint's frame: plot, describe, sum, groupby-sum.

``df.plot()`` once raised ``ValueError: Date ordinal -5443440.7 ...`` when the figure was drawn: pandas plots
every datetime column too, and ``end_time`` turned the y axis into a date axis. The figures here are drawn for
real (matplotlib Agg, into PNG bytes), since the error came at drawing time, not at ``df.plot()``.
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import usage_frames as uf
from usage_frames import ops

CLIENT = uf.Client.fake()


def _frame(endpoint: str, width: str = "1d") -> pd.DataFrame:
    key = uf.ENDPOINTS[endpoint].group_by[0]
    return CLIENT.fetch(endpoint, "2026-10-01", "2026-10-08" if width == "1d" else "2026-10-02", bucket_width=width,
                        group_by=key)  # fmt: skip


def _drawn(ax) -> bytes:
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png")
    plt.close(ax.figure)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("endpoint", "width"), [(e, w) for e in uf.ENDPOINTS for w in ("1d", "1h") if w in uf.ENDPOINTS[e].bucket_widths]
)
def test_pandas_basics__work_on_every_endpoints_frame(endpoint, width):
    df = _frame(endpoint, width)
    assert len(df) and str(df["end_time"].dtype).startswith("datetime64") and str(df["end_time"].dt.tz) == "UTC"
    ax = df.plot()
    drawn = [t.get_text() for t in ax.get_legend().get_texts()]
    assert _drawn(ax).startswith(b"\x89PNG")  # was: ValueError: Date ordinal ... (end_time on the y axis)
    assert "end_time" not in drawn and drawn == [c for c in df.select_dtypes("number").columns]
    numbers = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    assert list(df.describe().columns) == numbers
    assert list(df.sum(numeric_only=True).index) == numbers
    key = df.attrs["group_by"][0]
    grouped = df.groupby(key, observed=True).sum(numeric_only=True)
    assert list(grouped.columns) == numbers and len(grouped) == df[key].nunique()


def test_pandas_basics__plot_kinds_and_frames_derived_from_a_fetch():
    df = _frame("completions")
    for ax in (df.plot.area(), df.plot(kind="bar"), df[["input_tokens", "end_time"]].plot.line(),
               df[df["num_model_requests"] > 0].plot(), df.copy().plot(), pd.concat([df, df]).plot(),
               ops.complete(df).plot(), df.usage.resample("W-SUN").plot(), ops.top_n(df, 2, by="project_id").plot()):
        assert "end_time" not in [t.get_text() for t in ax.get_legend().get_texts()]
        _drawn(ax)
    # Named, end_time is drawn as asked, on its own.
    ax = df.plot(y="end_time")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["end_time"]
    _drawn(ax)
    assert isinstance(df, pd.DataFrame) and isinstance(uf.Client.sample().costs("2026-10-01"), pd.DataFrame)
