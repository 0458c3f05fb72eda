"""The spend report's figures as plain data: one computation that the page, ``report.json`` and tests read.

A report reads one provider's bill (any provider: its project key, what its cost rows say they bill, its usage and
its spend guards are facts of its package) or several at once: one period for all, an overview that adds them up to
the cent (:mod:`usage_frames.report_overview`) and each provider's own report.

Costs come per UTC day, so every figure of a report covers the same whole UTC days (:func:`period`): a day still in
progress is shown apart, as "today so far", and counted in no other figure; the comparison period has as many days;
the headline is the sum of the by-project table to the cent, and every money table adds up to it (an "Other" row
holds what a table leaves out). The month-end forecast is the one ``usage-frames check`` gives for the same month:
both fit the history that :func:`usage_frames.ops.forecast_start` names.

``usage-frames report -o report.json`` writes :func:`report_data`; :mod:`usage_frames.report` draws the HTML page
from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from usage_frames import ops
from usage_frames._core.errors import CacheMissError, InvalidParameterError, UsageFramesError
from usage_frames._core.query import TimeLike, to_utc
from usage_frames.analysis.combine import DEFAULT_PROJECT
from usage_frames.analysis.forecast import LOOKBACK
from usage_frames.analysis.money import total_cents
from usage_frames.providers import PACKAGES, Client
from usage_frames.report_overview import TITLE, as_of, clients_of, overview, whole_cents

LINE_ITEMS = 10  # the line items the chart and the table show by name; the rest is one "Other" bar and row
ANOMALY_HISTORY = pd.Timedelta(days=35)  # unusual days: each day against the four weeks before it, by weekday


@dataclass(frozen=True)
class Period:
    """The whole UTC days a report covers, the days it is compared with, and the day in progress.

    Attributes:
        start: First day of the period (a UTC midnight).
        end: End of its last whole day (exclusive, a UTC midnight).
        previous_start: First day of the comparison period, which has as many days.
        previous_end: Its end.
        previous_label: What the comparison period is, in words ("Same days last month", "Previous 7 days").
        now: The data's "as of" time.
        today: Start of the day in progress when the period reaches the as-of time in the middle of a day (its
            spend so far is shown apart), else None.
        live: Whether the period reaches the as-of time (then the month-end forecast is shown).
        note: Why the period is not the one asked for (the first day of a month: the month before), else "".
    """

    start: pd.Timestamp
    end: pd.Timestamp
    previous_start: pd.Timestamp
    previous_end: pd.Timestamp
    previous_label: str
    now: pd.Timestamp
    today: pd.Timestamp | None
    live: bool
    note: str = ""

    @property
    def days(self) -> int:
        """How many whole days the period (and its comparison) has."""
        return int((self.end - self.start) / pd.Timedelta(days=1))


def period(start: TimeLike | None, end: TimeLike | None, now: TimeLike) -> Period:
    """The whole UTC days of ``[start, end)`` as of ``now``, and the period they are compared with.

    Costs come in whole UTC days: the period starts at its first day's midnight and ends with the last whole day
    before ``end``; when that cut leaves out the day in progress, that day so far is ``today``, shown apart. The
    comparison has as many days: the same days of the previous month for a period that starts on a 1st (the whole
    previous month when it is as long), else the days just before. On a month's first day, before it has a whole
    day, the period is the month before, complete.

    Args:
        start: First day (default: the first of the as-of month).
        end: End, exclusive (default and at most: ``now``).
        now: The data's "as of" time (``client.clock()``).

    Raises:
        InvalidParameterError: If ``end`` is not after ``start``, ``start`` is after ``now``, or the period has
            no whole day.

    Examples:
        >>> p = period(None, None, "2026-12-07 14:53")  # a day in progress: whole days, and today apart
        >>> f"{p.start:%m-%d}..{p.end:%m-%d}", f"{p.today:%m-%d}", p.previous_label, f"{p.previous_start:%m-%d}"
        ('12-01..12-07', '12-07', 'Same days last month', '11-01')
        >>> p = period("2026-10-01", "2026-11-01", "2026-12-07")  # 31 days; September has 30
        >>> p.previous_label, span(p.previous_start, p.previous_end), p.today
        ('Previous 31 days', 'Aug 31 to Sep 30 2026', None)
        >>> period(None, None, "2026-11-01 06:00").note
        'November 2026 has no whole day yet: the period is October 2026, complete.'
    """
    now = to_utc(now, argument="now")
    first = to_utc(start) if start is not None else now.floor("D").replace(day=1)
    until = to_utc(end, argument="end") if end is not None else None
    if until is not None and until <= first:
        raise InvalidParameterError("end", str(until), reason=f"is not after the start {first:%Y-%m-%d %H:%M} UTC")
    if first > now:
        raise InvalidParameterError(
            "start", str(first), reason=f"is after the data's as-of time {now:%Y-%m-%d %H:%M} UTC"
        )
    stop = now if until is None else min(until, now)
    live = stop == now
    begin, last, note = first.floor("D"), stop.floor("D"), ""
    if last <= begin:
        if not (live and begin.day == 1):
            reason = f"leaves no whole UTC day before {stop:%Y-%m-%d %H:%M} UTC (costs are daily): start a day earlier"
            raise InvalidParameterError("start", str(first), reason=reason)
        begin -= pd.DateOffset(months=1)
        note = f"{last:%B %Y} has no whole day yet: the period is {begin:%B %Y}, complete."
    days = pd.Timedelta(days=(last - begin).days)
    back = begin - pd.DateOffset(months=1)
    if begin.day == 1 and back + days <= begin:
        before, label = back, "Same days last month"
        if back + days == begin and last == begin + pd.DateOffset(months=1):
            label = "Previous month"
    else:
        before, label = begin - days, "Previous day" if days.days == 1 else f"Previous {days.days} days"
    today = last if live and last < now else None
    return Period(begin, last, before, before + days, label, now, today, live, note)


def span(start: pd.Timestamp, stop: pd.Timestamp) -> str:
    """``[start, stop)`` as a reader says it: its first and last days.

    Examples:
        >>> span(pd.Timestamp("2026-12-01", tz="UTC"), pd.Timestamp("2026-12-07", tz="UTC"))
        'Dec 01 to Dec 06 2026'
    """
    last = stop - pd.Timedelta(seconds=1)
    return f"{start:%b %d}" + ("" if last.floor("D") == start.floor("D") else f" to {last:%b %d}") + f" {last:%Y}"


def _clock(when: pd.Timestamp) -> str:
    return f"{when:%H:%M:%S}" if when.second else f"{when:%H:%M}"


def _iso(when: pd.Timestamp) -> str:
    return f"{when.tz_convert('UTC'):%Y-%m-%dT%H:%M:%SZ}"


def _pct(value: Any) -> float | None:
    return None if value is None or pd.isna(value) or not math.isfinite(float(value)) else round(float(value), 1)


def _card(name: str, label: str, value: float | None, start: pd.Timestamp, end: pd.Timestamp, note: str = "",
          **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {"name": name, "label": label, "value": value, "start": _iso(start), "end": _iso(end), "note": note, **extra}


@dataclass(frozen=True)
class Frames:
    """What the charts draw: the frames the figures were computed from (no second fetch).

    Attributes:
        when: The period.
        history: Costs by project (``key``) from the earliest day a figure needs.
        lines: Costs of the period by what they bill (``item``).
        outlook: The forecast, if any.
        key: The provider's project key (``project_id``, ``workspace_id``).
        item: The key its cost rows say what they bill by (``line_item``, ``description``).
    """

    when: Period
    history: pd.DataFrame
    lines: pd.DataFrame
    outlook: pd.DataFrame | None
    key: str = "project_id"
    item: str = "line_item"


def _history(client: Client, when: Period, key: str) -> pd.DataFrame:
    """Costs by project from the earliest day any figure needs; a miss names the figure that needs the date."""
    needs = {
        f"the comparison with the {when.previous_label.lower()}": when.previous_start,
        "the unusual days compare each day with the four weeks before it": when.start - ANOMALY_HISTORY,
    }
    if when.live:
        needs[f"the forecast fits the {LOOKBACK} settled days before yesterday"] = ops.forecast_start(when.now)
    first = min(when.start, *needs.values())
    try:
        costs = client.fetch(client.provider.primary[-1], first, when.now if when.live else when.end, group_by=key)
    except CacheMissError as exc:
        why = "; ".join(f"{need} (from {day:%Y-%m-%d})" for need, day in needs.items() if day < when.start)
        if not why:
            raise
        reason = f"the report of {span(when.start, when.end)} needs costs from {first:%Y-%m-%d}, before its period"
        reason += f": {why}"
        raise exc.because(reason) from exc  # the same error (its windows), why first
    return _named_default(costs, key)


def _named_default(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """The frame with rows of no project (Anthropic's default workspace) under :data:`DEFAULT_PROJECT`.

    As :func:`usage_frames.ops.combine` names them, so that every figure by project adds up to the bill.
    """
    if not frame[key].isna().any():
        return frame
    out = frame.copy()
    column = out[key]
    if isinstance(column.dtype, pd.CategoricalDtype) and DEFAULT_PROJECT not in column.cat.categories:
        column = column.cat.add_categories([DEFAULT_PROJECT])
    out[key] = column.fillna(DEFAULT_PROJECT)
    return out


def _names(client: Client, key: str) -> pd.Series:
    """Project names by id from the provider's directory (the default workspace's under :data:`DEFAULT_PROJECT`)."""
    listed = optional(lambda: PACKAGES[client.provider.name].names(client, keys=[key]).get(key), None)
    if listed is None:
        return pd.Series(dtype=str)
    ids = listed["id"].astype(object).where(listed["id"].notna(), DEFAULT_PROJECT)
    return pd.Series(listed["name"].to_numpy(), index=pd.Index(ids, name="id"), name="name")


def _rows(
    key: str, labels: Sequence[Any], values: Sequence[float], total: float, target: int, rest: pd.Series | None = None
) -> list[dict[str, Any]]:
    """Rows of ``key``, ``amount`` (whole cents that add up to ``target``) and ``share_pct`` of ``total``.

    With ``rest`` (the amounts of the rows the last row stands for: "no model", "not tokens"), that row is their
    total rounded once, as every table that has a row for the same rows shows it; the others share the odd cents.
    """
    if rest is None:
        cents = whole_cents(values, target)
    else:
        last = total_cents(rest)
        cents = [*whole_cents(values[:-1], target - last), last]
    return [{key: str(label), "amount": c / 100, "share_pct": _pct(value / total * 100 if total else None)}
            for label, value, c in zip(labels, values, cents, strict=True)]  # fmt: skip


def _by_project(moved: pd.DataFrame, names: pd.Series, spend: int, previous: int) -> list[dict[str, Any]]:
    """The rows of :func:`usage_frames.ops.compare` by project: whole cents that add up to the cards' cents."""
    now, then = whole_cents(moved["current"], spend), whole_cents(moved["previous"], previous)
    total = float(moved["current"].sum())
    return [
        {"project_id": str(project), "project": str(names.get(project, project)), "previous": b / 100,
         "amount": a / 100, "change": (a - b) / 100, "change_pct": _pct(row["change_pct"]),
         "share_pct": _pct(row["current"] / total * 100 if total else None),
         "share_of_change_pct": _pct(row["contribution_pct"])}
        for (project, row), a, b in zip(moved.iterrows(), now, then, strict=True)
    ]  # fmt: skip


def _bill_tables(lines: pd.DataFrame, spend: float, cents: int, item: str) -> dict[str, list[dict[str, Any]]]:
    """Line items (the top ones and "Other"), models and token kinds: each adds up to the headline to the cent.

    A line item is what the provider's cost rows say they bill (``item``: OpenAI's line item, Anthropic's
    description), read into models and token kinds by its :attr:`~usage_frames._core.provider.Provider.bill`.
    ``spend`` is the headline's exact amount, ``cents`` the headline.
    """
    shares = ops.share(lines, by=item)["amount"].astype(float)
    total = float(shares.sum())
    # The same bill by another key: the headline's cents, else its own total rounded once.
    target = cents if abs(total - spend) < 0.005 else total_cents(lines["amount"])
    top, rest = shares.iloc[:LINE_ITEMS], shares.iloc[LINE_ITEMS:]
    other = [(f"Other ({len(rest)} line item{'s' * (len(rest) > 1)})", float(rest.sum()))] if len(rest) else []
    items = ops.split_line_items(lines)
    amount = items["amount"].astype(float)
    per_model = amount.groupby(items["model"].astype(object)).sum().sort_values(ascending=False)
    # Token spend by what was billed: text/audio/image, input/cached input/cache writes/output, long context.
    tokens = items["kind"].isin(["input", "cached input", "cache writes", "output"]).fillna(False).to_numpy(bool)
    what = (items["modality"].fillna("text") + " " + items["kind"]
            + items["context"].map({"long": ", long context"}).fillna(""))[tokens]  # fmt: skip
    per_kind = amount[tokens].groupby(what.to_numpy()).sum().sort_values(ascending=False)
    named = [*top.items(), *other]
    return {
        "by_line_item": _rows("line_item", [k for k, _ in named], [v for _, v in named], total, target),
        "by_model": _rows("model", [*per_model.index, "Tools and storage (no model)"],
                          [*per_model, total - float(per_model.sum())], total, target,
                          items.loc[items["model"].isna().to_numpy(bool), "amount"]),
        "by_token_kind": _rows("billed_as", [*per_kind.index, "Other line items (not tokens)"],
                               [*per_kind, total - float(per_kind.sum())], total, target, items.loc[~tokens, "amount"]),
    }  # fmt: skip


def _forecast(history: pd.DataFrame, when: Period, whose: str = "") -> tuple[dict[str, Any], pd.DataFrame | None]:
    """The forecast card (the month of the as-of time; ``check`` gives the same figure), and the forecast frame.

    ``whose`` says whose bill it projects when that is not plain (several providers' bill as one).
    """
    if not when.live:
        return _card("forecast", "Forecast", None, when.start, when.end, "none: the period is over"), None
    try:
        outlook = ops.forecast(history, now=when.now)
    except InvalidParameterError:
        settled = int((ops.daily_spend(history).index < when.now.floor("D") - pd.Timedelta(days=1)).sum())
        note = f"Too few settled days for a forecast: {settled} (it needs 7)."
        month = (when.now - pd.Timedelta(seconds=1)).floor("D").replace(day=1)
        return _card("forecast", "Forecast", None, month, month + pd.DateOffset(months=1), note), None
    facts = outlook.attrs
    month = pd.Timestamp(facts["month"])
    fitted = pd.Timestamp(facts["fit_from"]), pd.Timestamp(facts["forecast_from"])
    note = f"the whole month{whose}, from a fit on the settled days {span(*fitted)}"
    card = _card("forecast", f"Projected {month:%B %Y}", round(facts["projected_total"], 2), month,
                 month + pd.DateOffset(months=1), note, lower=round(facts["lower_total"], 2),
                 upper=round(facts["upper_total"], 2), month_to_date=round(facts["month_to_date"], 2),
                 fit_start=_iso(fitted[0]), fit_end=_iso(fitted[1]))  # fmt: skip
    return card, outlook


def optional(fetch: Callable[[], Any], default: Any) -> Any:
    """An extra the report can do without (names, thresholds) when the key may not read it.

    Examples:
        >>> optional(lambda: 1 / 1, None), optional(lambda: Client("sk-admin-x", cache=0), "no client")
        (1.0, 'no client')
    """
    try:
        return fetch()
    except UsageFramesError:
        return default


def compute(
    client: Client, start: TimeLike | None, end: TimeLike | None, now: TimeLike | None = None
) -> tuple[dict[str, Any], Frames]:
    """:func:`report_data` of one client, and the frames its figures come from (for the charts: no second fetch).

    Args:
        client: A client of any provider.
        start: First day of the period.
        end: End of the period.
        now: The as-of time (default: the client's clock; an overview gives all its providers the earliest).
    """
    provider = client.provider
    cost, bill = provider.primary[-1], provider.bill
    key = provider.endpoint(cost).project_key
    if bill is None or key is None:
        raise InvalidParameterError("client", provider.name, reason="has no bill by project for a spend report")
    when = period(start, end, client.clock() if now is None else now)
    history = _history(client, when, key)
    days = history.index
    current = history[(days >= when.start) & (days < when.end)]
    before = history[(days >= when.previous_start) & (days < when.previous_end)]
    moved = ops.compare(current, before, by=key)
    spend, previous = float(moved["current"].sum()), float(moved["previous"].sum())
    # The cards: each its rows' exact total rounded once (as FOCUS, allocate and check total them).
    cents = total_cents(current["amount"]), total_cents(before["amount"])
    lines = client.fetch(cost, when.start, when.end, group_by=bill.key)
    names = _names(client, key)
    now, then = span(when.start, when.end), span(when.previous_start, when.previous_end)
    cards = [
        _card("spend", "Spend", cents[0] / 100, when.start, when.end, now),
        _card("previous", when.previous_label, cents[1] / 100, when.previous_start, when.previous_end, then),
        _card("change_pct", "Change", _pct((spend / previous - 1) * 100 if previous else None), when.start, when.end,
              f"{now} vs {then}"),
    ]  # fmt: skip
    if when.today is not None:  # in cents that add up with the period's to the month to date of ``check``
        so_far = total_cents(history.loc[days >= when.start, "amount"]) - cents[0]
        cards.append(_card("today", "Today so far", so_far / 100, when.today, when.now,
                           f"{when.today:%b %d}, to {_clock(when.now)} UTC: in no other figure"))  # fmt: skip
    forecast, outlook = _forecast(history, when)
    found = ops.anomalies(history, by=key, direction="up")
    found = found[(found.index >= when.start) & (found.index < when.end)]
    unusual = [
        {"day": _iso(day), "project_id": str(row[key]), "project": str(names.get(row[key], row[key])),
         "amount": round(row["value"], 2), "expected": round(row["expected"], 2), "z": round(row["z"], 1)}
        for day, row in zip(found.index, found.to_dict("records"), strict=True)
    ]  # fmt: skip
    data = {
        "title": _title(when, provider.title),
        "provider": provider.name,
        "provider_title": provider.title,
        "source": client.source,
        "as_of": _iso(when.now),
        "period": {"start": _iso(when.start), "end": _iso(when.end), "days": when.days},
        "rule": _rule(when),
        "cards": [*cards, forecast],
        "tables": {"by_project": _by_project(moved, names, *cents), **_bill_tables(lines, spend, cents[0], bill.key),
                   "unusual_days": unusual},
    }  # fmt: skip
    return data, Frames(when, history, lines, outlook, key, bill.key)


def _title(when: Period, whose: str) -> str:
    """The page's title: whose spend, and the month's name when the period lies within one month."""
    last = when.end - pd.Timedelta(seconds=1)
    same_month = (when.start.year, when.start.month) == (last.year, last.month)
    return f"{whose} spend report" + (f": {when.start:%B %Y}" if same_month else "")


def _rule(when: Period) -> str:
    """The page's one rule for the days its figures cover, in words."""
    words = [when.note] if when.note else []
    words.append(f"Costs come per UTC day: every figure covers the {when.days} whole day{'s' * (when.days > 1)} "
                 f"{span(when.start, when.end)}, compared with as many days ({when.previous_label.lower()}, "
                 f"{span(when.previous_start, when.previous_end)}).")  # fmt: skip
    if when.today is not None:
        words.append(f"Today ({when.today:%b %d}) is in progress: its spend to {_clock(when.now)} UTC is shown apart "
                     "and counted in no other figure; the forecast fits settled days only.")  # fmt: skip
    return " ".join(words)


def compute_all(
    clients: Client | Sequence[Client], start: TimeLike | None, end: TimeLike | None
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], Frames]]]:
    """:func:`report_data`, and each provider's report with the frames its figures come from (for the charts)."""
    chosen = clients_of(clients)
    if len(chosen) == 1:
        data, frames = compute(chosen[0], start, end)
        return data, [(data, frames)]
    clocks = as_of(chosen)
    now = min(clocks.values())
    if len(set(clocks.values())) > 1:  # a day's costs cannot be cut where one provider's data stop: whole days
        now = now.floor("D")
    parts = [compute(client, start, end, now) for client in chosen]
    when = parts[0][1].when
    bill = ops.combine(*(frames.history for _, frames in parts))  # one bill: its totals rounded once, one forecast
    forecast, _ = _forecast(bill, when, " of the providers' bill together (as check --provider all gives it)")
    return overview([data for data, _ in parts], clocks, _title(when, TITLE), bill, forecast), parts


def report_data(
    client: Client | Sequence[Client], start: TimeLike | None = None, end: TimeLike | None = None
) -> dict[str, Any]:
    """The report's figures as plain data: what ``usage-frames report -o report.json`` writes and the page shows.

    Amounts are dollars rounded to the cent once (table rows add up to their card exactly), percentages are
    rounded to 0.1 (as shown), times are ISO 8601 UTC strings; a figure that cannot be given is ``None`` (JSON ``null``)
    with a ``note`` that says why.

    Args:
        client: Where the data comes from (``Client()``, ``Client.sample()``, ``Client.fake(now=...)``), of any
            provider; or several clients of different providers (one report of all, see
            :func:`usage_frames.report_overview.overview`).
        start: First day of the period (default: the first of the as-of month); see :func:`period`.
        end: End of the period (default: the as-of time).

    Returns:
        ``title``, ``provider`` and ``provider_title`` (whose report), ``source``, ``as_of``, ``period``
        (``start``, ``end``, ``days``), ``rule`` (the days the
        figures cover, in words), ``cards`` (each ``name``, ``label``, ``value``, ``start``, ``end``, ``note``;
        names ``spend``, ``previous``, ``change_pct``, ``today`` while a day is in progress, ``forecast``) and
        ``tables`` (lists of row dicts: ``by_project`` rows carry ``amount``, ``previous``, ``change``,
        ``change_pct``, ``share_pct``, ``share_of_change_pct``; ``by_line_item``, ``by_model``, ``by_token_kind``,
        ``unusual_days``). A project is what the provider splits its bill by (an Anthropic workspace; its default
        workspace is ``default``). Of several clients: the overview (:func:`usage_frames.report_overview.overview`).

    Raises:
        InvalidParameterError: If the period is empty (see :func:`period`), or for clients that are not one per
            provider.
        CacheMissError: If the sample data or the cache lacks a day a figure needs (the message says which figure).

    Examples:
        >>> from usage_frames import Client
        >>> data = report_data(Client.sample())
        >>> data["period"]
        {'start': '2026-10-01T00:00:00Z', 'end': '2026-10-21T00:00:00Z', 'days': 20}
        >>> {card["name"]: card["value"] for card in data["cards"]}
        {'spend': 1412.95, 'previous': 1361.41, 'change_pct': 3.8, 'forecast': 2189.01}
        >>> round(sum(row["amount"] for row in data["tables"]["by_project"]), 2)  # the headline, to the cent
        1412.95
    """
    return compute_all(client, start, end)[0]
