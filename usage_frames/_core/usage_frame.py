"""The class of every fetched frame: a pandas ``DataFrame`` whose ``df.plot()`` draws the values over time.

pandas' ``DataFrame.plot()`` draws every numeric *and datetime* column against the index
(``pandas.plotting._matplotlib.core.MPLPlot._compute_plot_data`` keeps ``np.number``, ``datetime64``, ``datetimetz``
and ``timedelta`` columns). The frame contract keeps ``end_time`` as a UTC datetime column, so a plain
``df.plot()`` drew it as one more line: its dates set the y axis's unit converter (pandas' ``DatetimeConverter``),
and the token counts on the same axis were then read as day numbers (``ValueError: Date ordinal -5443440.7 ...``
when the figure is drawn). :class:`UsageFrame` changes nothing but that default: ``plot`` leaves ``end_time`` out
unless ``x`` or ``y`` names it. Everything else is pandas' own, and frames derived from it (a filter, a copy, a
``groupby``) keep the class.

Examples:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from usage_frames import Client
    >>> df = Client.fake().fetch("completions", "2026-10-01", "2026-10-08")
    >>> type(df).__name__, isinstance(df, pd.DataFrame)
    ('UsageFrame', True)
    >>> ax = df.plot()
    >>> "end_time" in [t.get_text() for t in ax.get_legend().get_texts()]
    False
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pandas.plotting import PlotAccessor


class _PlotWithoutEndTime(PlotAccessor):
    """pandas' plot accessor on the frame without ``end_time``, unless ``x`` or ``y`` names it."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        frame: pd.DataFrame = self._parent  # type: ignore[attr-defined]  # pandas-stubs leave it out
        named = [*args[:2], kwargs.get("x"), kwargs.get("y")]
        mentioned = {str(v) for n in named for v in (n if pd.api.types.is_list_like(n) else [n])}
        if "end_time" in frame.columns and "end_time" not in mentioned:
            return PlotAccessor(frame.drop(columns="end_time"))(*args, **kwargs)
        return super().__call__(*args, **kwargs)


class UsageFrame(pd.DataFrame):
    """A ``DataFrame`` whose ``plot`` leaves the ``end_time`` column out (see the module's docstring)."""

    @property
    def _constructor(self) -> Any:
        return UsageFrame

    @property
    def plot(self) -> Any:
        """The plot accessor of pandas (``df.plot()``, ``df.plot.bar()``...), without ``end_time`` unless named."""
        return _PlotWithoutEndTime(self)


# Pickles and reprs name it as users import it (``usage_frames.UsageFrame``), wherever the class is defined.
UsageFrame.__module__ = "usage_frames"
