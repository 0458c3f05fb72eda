"""The spend report of several providers at once: their bill as one, to the cent.

:func:`usage_frames.report_data.report_data` of several clients computes each provider's own report for one period
and one as-of time (the providers' own when they agree, else the last midnight all of them have reached, so that each
has its data for every day), then :func:`overview` adds them up: cards that are the combined bill's exact totals
rounded once and its forecast (the figures ``export focus``, ``allocate`` and ``check`` give with ``--provider all``),
spend by provider, and spend by project across providers (a provider's project is what it splits its bill by: an
OpenAI project, an Anthropic workspace, as in :func:`usage_frames.ops.combine`). Each provider's report is kept
whole under ``providers``.

Examples:
    >>> import usage_frames as uf
    >>> from usage_frames.report_data import report_data
    >>> clients = [uf.Client.fake(now="2026-11-28 12:00"), uf.Client.fake(provider="anthropic", now="2026-11-28 12:00")]
    >>> data = report_data(clients)
    >>> data["title"], list(data["providers"])
    ('AI spend report: November 2026', ['openai', 'anthropic'])
    >>> spend = {c["name"]: c["value"] for c in data["cards"]}["spend"]
    >>> spend == round(sum(row["amount"] for row in data["tables"]["by_provider"]), 2)
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pandas as pd

from usage_frames._core.errors import InvalidParameterError
from usage_frames.analysis.money import exact_total, total_cents
from usage_frames.providers import Client

TITLE = "AI"
"""Whose spend a report of several providers shows (its title: "AI spend report: October 2026")."""


def clients_of(clients: Client | Sequence[Client]) -> list[Client]:
    """The clients of a report: one, or several of different providers.

    Raises:
        InvalidParameterError: For no client, something that is not a client, or two clients of one provider.

    Examples:
        >>> clients_of([Client.fake(), Client.fake()])
        Traceback (most recent call last):
        ...
        usage_frames.InvalidParameterError: clients: 'openai, openai' must be of different providers (one client each)
    """
    chosen = [clients] if isinstance(clients, Client) else list(clients) if isinstance(clients, Sequence) else []
    if not chosen or not all(isinstance(c, Client) for c in chosen):
        raise InvalidParameterError("clients", clients, reason="must be a Client or a sequence of Clients")
    names = [c.provider.name for c in chosen]
    if len(set(names)) < len(names):
        reason = "must be of different providers (one client each)"
        raise InvalidParameterError("clients", ", ".join(names), reason=reason)
    return chosen


def as_of(clients: Sequence[Client]) -> dict[str, pd.Timestamp]:
    """Each client's as-of time by provider: its fixed clock (recorded data, ``now=``), else one reading of now.

    Examples:
        >>> {name: f"{when:%m-%d %H:%M}" for name, when in as_of(
        ...     [Client.sample(), Client.fake(provider="anthropic", now="2026-10-22 06:00")]).items()}
        {'openai': '10-21 00:00', 'anthropic': '10-22 06:00'}
    """
    live = [c.clock() for c in clients if c.now is None]
    return {c.provider.name: c.now if c.now is not None else min(live) for c in clients}


def whole_cents(values: Sequence[float | Decimal] | pd.Series, total: int) -> list[int]:
    """Whole cents per value that add up to ``total`` cents (the largest remainders get the odd cents).

    How every money table of a report adds up to its card: ``total`` is the exact sum of the values rounded once
    (:func:`usage_frames.analysis.money.total_cents`), and each row is within a cent of its own exact value.

    Examples:
        >>> whole_cents([10.004, 5.004, 2.004], 1701)  # each rounded alone: 10.00 + 5.00 + 2.00 = 17.00
        [1000, 500, 201]
    """
    exact = [float(v) * 100 for v in values]
    cents = [math.floor(e) for e in exact]
    short = total - sum(cents)
    ranked = sorted(range(len(exact)), key=lambda i: exact[i] - cents[i], reverse=short > 0)
    for i in range(abs(short) if ranked else 0):  # more than one cent each only when ``total`` is another sum
        cents[ranked[i % len(ranked)]] += 1 if short > 0 else -1
    return cents


def _pct(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 1)


def _within(bill: pd.DataFrame, card: Mapping[str, Any]) -> pd.DataFrame:
    """The rows of the bill in the days of a card (``start`` to ``end``)."""
    days = bill.index
    return bill[(days >= pd.Timestamp(card["start"])) & (days < pd.Timestamp(card["end"]))]


def _by(rows: pd.DataFrame, keys: list[str]) -> dict[Any, Decimal]:
    """The exact total of each group of rows (each amount read as the decimal it was sent as)."""
    groups = rows["amount"].groupby([rows[k].astype(object) for k in keys], observed=True)
    return {key: exact_total(group) for key, group in groups}


def overview(
    sections: Sequence[dict[str, Any]],
    as_of: Mapping[str, pd.Timestamp],
    title: str,
    bill: pd.DataFrame,
    forecast: dict[str, Any],
) -> dict[str, Any]:
    """Several providers' reports of one period as one: their bill's totals, by provider, by project, and each report.

    Every money figure is the combined bill's exact sum rounded once (as ``export focus``, ``allocate`` and ``check``
    with ``--provider all`` total it), not the sum of the providers' rounded cards, which may be a cent off; the
    tables split it into whole cents that add up to it (a row may be a cent from its provider's own card).

    Args:
        sections: Each provider's report (:func:`usage_frames.report_data.report_data` of one client), all of the
            same period and as-of time.
        as_of: Each provider's own as-of time (its clock), by provider name: the rule says when they differ.
        title: The report's title.
        bill: The providers' costs by project in one (:func:`usage_frames.ops.combine`) from the earliest day a
            card covers to the as-of time.
        forecast: The forecast card of the combined bill (its daily total, as ``check --provider all`` forecasts).

    Returns:
        The keys of one provider's report (``title``, ``source``, ``as_of``, ``period``, ``rule``, ``cards``,
        ``tables``) where the cards are the combined bill's and the tables are ``by_provider``
        (``provider``, ``provider_title``, ``previous``, ``amount``, ``change``, ``change_pct``, ``share_pct``) and
        ``by_project`` (each provider's rows, with ``provider``, ``share_pct`` and ``share_of_change_pct`` of the
        whole), largest spend first; and ``providers``: each provider's report by name.

    Raises:
        ValueError: If the reports cover different periods.
    """
    first = sections[0]
    if any(s["period"] != first["period"] or s["as_of"] != first["as_of"] for s in sections):
        raise ValueError("the providers' reports cover different periods: compute them for one period")
    cards = {card["name"]: card for card in first["cards"]}
    now, then = _within(bill, cards["spend"]), _within(bill, cards["previous"])
    spend, previous = total_cents(now["amount"]), total_cents(then["amount"])
    added = [
        {**cards["spend"], "value": spend / 100},
        {**cards["previous"], "value": previous / 100},
        {**cards["change_pct"], "value": _pct((spend / previous - 1) * 100 if previous else None)},
    ]
    if "today" in cards:  # in cents that add up with the period's to the month to date of ``check``
        so_far = bill[bill.index >= pd.Timestamp(cards["spend"]["start"])]
        added.append({**cards["today"], "value": (total_cents(so_far["amount"]) - spend) / 100})
    added.append(forecast)
    keys = ["provider", "project_id"]
    exact = {name: _by(rows, keys) for name, rows in (("amount", now), ("previous", then))}
    own, cents = _providers_cents(sections, exact, spend, previous)
    return {
        "title": title,
        "source": ", ".join(dict.fromkeys(s["source"] for s in sections)),
        "as_of": first["as_of"],
        "period": first["period"],
        "rule": _rule(sections, as_of),
        "cards": added,
        "tables": {"by_provider": _by_provider(sections, own, cents, spend),
                   "by_project": _by_project(sections, exact, cents, spend)},
        "providers": {s["provider"]: s for s in sections},
    }  # fmt: skip


def _providers_cents(
    sections: Sequence[dict[str, Any]], exact: Mapping[str, Mapping[Any, Decimal]], spend: int, previous: int
) -> tuple[dict[str, list[Decimal]], dict[str, list[int]]]:
    """Each provider's exact totals and its whole cents of the combined totals (``amount``, ``previous``)."""
    names = [s["provider"] for s in sections]
    own = {k: [sum((v for (p, _), v in exact[k].items() if p == name), Decimal(0)) for name in names] for k in exact}
    return own, {"amount": whole_cents(own["amount"], spend), "previous": whole_cents(own["previous"], previous)}


def _by_provider(
    sections: Sequence[dict[str, Any]], own: Mapping[str, list[Decimal]], cents: Mapping[str, list[int]], spend: int
) -> list[dict[str, Any]]:
    nows, thens = cents["amount"], cents["previous"]
    rows = [{"provider": s["provider"], "provider_title": s["provider_title"], "previous": b / 100,
             "amount": a / 100, "change": (a - b) / 100, "change_pct": _pct((x / y - 1) * 100 if y else None),
             "share_pct": _pct(x / spend * 10000 if spend else None)}
            for s, a, b, x, y in zip(sections, nows, thens, map(float, own["amount"]), map(float, own["previous"]),
                                     strict=True)]  # fmt: skip
    return sorted(rows, key=lambda row: -row["amount"])


def _by_project(
    sections: Sequence[dict[str, Any]], exact: Mapping[str, Mapping[Any, Decimal]], cents: Mapping[str, list[int]],
    spend: int,
) -> list[dict[str, Any]]:
    """Each provider's rows by project, with shares of the whole.

    Each provider's whole cents (its row of ``by_provider``) are split among its projects, so that its rows add up
    to that row; a provider whose row is its own card splits it as its own section does.
    """
    rows = [{"provider": s["provider"], **row} for s in sections for row in s["tables"]["by_project"]]
    keys = [(row["provider"], row["project_id"]) for row in rows]
    own = {k: [exact[k].get(key, Decimal(0)) for key in keys] for k in exact}
    split: dict[str, list[int]] = {"amount": [0] * len(rows), "previous": [0] * len(rows)}
    for i, section in enumerate(sections):
        mine = [j for j, row in enumerate(rows) if row["provider"] == section["provider"]]
        for k in split:
            for j, c in zip(mine, whole_cents([own[k][j] for j in mine], cents[k][i]), strict=True):
                split[k][j] = c
    nows, thens = split["amount"], split["previous"]
    change = float(sum(own["amount"]) - sum(own["previous"]))
    out = [{**row, "previous": b / 100, "amount": a / 100, "change": (a - b) / 100,
            "share_pct": _pct(float(x) / spend * 10000 if spend else None),
            "share_of_change_pct": _pct(float(x - y) / change * 100 if change else None)}
           for row, a, b, x, y in zip(rows, nows, thens, own["amount"], own["previous"], strict=True)]  # fmt: skip
    return sorted(out, key=lambda row: -row["amount"])


def _rule(sections: Sequence[dict[str, Any]], as_of: Mapping[str, pd.Timestamp]) -> str:
    """The providers' rule for the days every figure covers, and why the as-of time is theirs when they differ."""
    rule = str(sections[0]["rule"])
    if len(set(as_of.values())) < 2:
        return rule
    titles = {s["provider"]: s["provider_title"] for s in sections}
    each = ", ".join(f"{titles.get(name, name)} {when:%Y-%m-%d %H:%M} UTC" for name, when in as_of.items())
    now = pd.Timestamp(sections[0]["as_of"])
    return (f"The providers' data are as of different times ({each}): every figure is as of {now:%Y-%m-%d %H:%M} "
            "UTC, the last midnight all of them have reached (a day's costs cannot be cut), so that each provider "
            f"has its data. {rule}")  # fmt: skip
