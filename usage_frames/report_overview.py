"""The spend report of several providers at once: their reports added up, to the cent.

:func:`usage_frames.report_data.report_data` of several clients computes each provider's own report for one period
and one as-of time (the providers' own when they agree, else the last midnight all of them have reached, so that each
has its data for every day), then :func:`overview` adds them up: cards that are the sums of the providers' cents,
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
from typing import Any

import pandas as pd

from usage_frames._core.errors import InvalidParameterError
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


def _cents(value: float) -> int:
    return round(value * 100)


def _pct(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 1)


def _usd(cents: int) -> str:
    return f"-${-cents / 100:,.2f}" if cents < 0 else f"${cents / 100:,.2f}"


def overview(sections: Sequence[dict[str, Any]], as_of: Mapping[str, pd.Timestamp], title: str) -> dict[str, Any]:
    """Several providers' reports of one period as one: their sums, by provider, by project, and each report.

    Args:
        sections: Each provider's report (:func:`usage_frames.report_data.report_data` of one client), all of the
            same period and as-of time.
        as_of: Each provider's own as-of time (its clock), by provider name: the rule says when they differ.
        title: The report's title.

    Returns:
        The keys of one provider's report (``title``, ``source``, ``as_of``, ``period``, ``rule``, ``cards``,
        ``tables``) where the cards are the sums of the providers' cents and the tables are ``by_provider``
        (``provider``, ``provider_title``, ``previous``, ``amount``, ``change``, ``change_pct``, ``share_pct``) and
        ``by_project`` (each provider's rows, with ``provider``, ``share_pct`` and ``share_of_change_pct`` of the
        whole), largest spend first; and ``providers``: each provider's report by name.

    Raises:
        ValueError: If the reports cover different periods.
    """
    first = sections[0]
    if any(s["period"] != first["period"] or s["as_of"] != first["as_of"] for s in sections):
        raise ValueError("the providers' reports cover different periods: compute them for one period")
    cards = [{card["name"]: card for card in s["cards"]} for s in sections]
    spend, previous = (sum(_cents(c[name]["value"]) for c in cards) for name in ("spend", "previous"))
    added = [
        {**cards[0]["spend"], "value": spend / 100},
        {**cards[0]["previous"], "value": previous / 100},
        {**cards[0]["change_pct"], "value": _pct((spend / previous - 1) * 100 if previous else None)},
    ]
    if "today" in cards[0]:
        added.append({**cards[0]["today"], "value": sum(_cents(c["today"]["value"]) for c in cards) / 100})
    added.append(_forecast(sections, [c["forecast"] for c in cards]))
    return {
        "title": title,
        "source": ", ".join(dict.fromkeys(s["source"] for s in sections)),
        "as_of": first["as_of"],
        "period": first["period"],
        "rule": _rule(sections, as_of),
        "cards": added,
        "tables": {"by_provider": _by_provider(sections, cards, spend), "by_project": _by_project(sections, spend,
                                                                                                  spend - previous)},
        "providers": {s["provider"]: s for s in sections},
    }  # fmt: skip


def _forecast(sections: Sequence[dict[str, Any]], forecasts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The sum of the providers' month-end forecasts; ``None`` with a note when a provider has none."""
    base = {k: forecasts[0][k] for k in ("name", "label", "start", "end")}
    missing = [(s["provider_title"], f["note"]) for s, f in zip(sections, forecasts, strict=True) if f["value"] is None]
    if missing:
        notes = {note for _, note in missing}
        note = notes.pop() if len(missing) == len(forecasts) and len(notes) == 1 else "; ".join(
            f"no forecast for {whose}: {note}" for whose, note in missing)  # fmt: skip
        return {**base, "label": "Forecast", "value": None, "note": note}
    total = sum(_cents(f["value"]) for f in forecasts)
    parts = ", ".join(f"{s['provider_title']} {_usd(_cents(f['value']))}" for s, f in zip(sections, forecasts,
                                                                                         strict=True))  # fmt: skip
    so_far = sum(_cents(f["month_to_date"]) for f in forecasts)
    return {**base, "value": total / 100, "note": f"the sum of each provider's forecast: {parts}",
            "month_to_date": so_far / 100}  # fmt: skip


def _by_provider(
    sections: Sequence[dict[str, Any]], cards: Sequence[dict[str, dict[str, Any]]], spend: int
) -> list[dict[str, Any]]:
    rows = []
    for section, card in zip(sections, cards, strict=True):
        now, then = _cents(card["spend"]["value"]), _cents(card["previous"]["value"])
        rows.append({"provider": section["provider"], "provider_title": section["provider_title"],
                     "previous": then / 100, "amount": now / 100, "change": (now - then) / 100,
                     "change_pct": _pct((now / then - 1) * 100 if then else None),
                     "share_pct": _pct(now / spend * 100 if spend else None)})  # fmt: skip
    return sorted(rows, key=lambda row: -row["amount"])


def _by_project(sections: Sequence[dict[str, Any]], spend: int, change: int) -> list[dict[str, Any]]:
    rows = []
    for section in sections:
        for row in section["tables"]["by_project"]:
            now, moved = _cents(row["amount"]), _cents(row["change"])
            rows.append({"provider": section["provider"], **row,
                         "share_pct": _pct(now / spend * 100 if spend else None),
                         "share_of_change_pct": _pct(moved / change * 100 if change else None)})  # fmt: skip
    return sorted(rows, key=lambda row: -row["amount"])


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
