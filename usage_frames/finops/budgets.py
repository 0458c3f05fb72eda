"""Monthly budgets: spend this month to date, the month-end forecast with its band, and a status per budget.

Budgets in TOML (``tomllib``); a budget without IDs is the whole organization, ``team`` reuses allocation rules
(``[[team]]`` tables in the same file, or ``rules=``)::

    [[budget]]
    name = "org"
    monthly = 2000.0

    [[budget]]
    name = "search"
    project_ids = ["proj_search"]    # also user_ids, api_key_ids and the *_names, as in allocation rules
    monthly = 300.0

    [[budget]]
    name = "chat team"
    team = "chat"                    # the costs the [[team]] named "chat" matches (before any split)
    monthly = 1500.0

Everything is computed at the data's "as of" time (``now=``, else where the fetched data ends: the window's end,
which a fetch clamps to its client's clock), never the machine's date, so that recorded data gives the same
answer every day. The forecast is :func:`usage_frames.ops.forecast`, on the history that
:func:`usage_frames.ops.forecast_start` names (``usage-frames check`` fetches from there): the spend report gives
the same figure for the same month.

Examples:
    >>> from usage_frames import Client
    >>> budgets = Budgets.from_toml('''
    ... [[budget]]
    ... name = "org"
    ... monthly = 2000.0
    ... [[budget]]
    ... name = "search"
    ... project_ids = ["proj_search"]
    ... monthly = 300.0
    ... ''')
    >>> costs = Client.sample().costs("2026-09-01", group_by="project_id")
    >>> status = check_budgets(costs, budgets)
    >>> status[["budget", "monthly", "month_to_date", "status"]]
       budget  monthly  month_to_date          status
    0     org   2000.0        1412.95  projected over
    1  search    300.0         489.75            over
    >>> print(lines(status)[1])  # doctest: +NORMALIZE_WHITESPACE
    search: over: $489.75 of $300.00 (163%) as of 2026-10-21 00:00 UTC;
    forecast $714.81 ($711.98 to $717.64) by month end
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tomllib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pandas as pd

from usage_frames._core.errors import InvalidParameterError, UsageFramesError
from usage_frames.analysis.forecast import forecast, forecast_start
from usage_frames.analysis.money import total_cents
from usage_frames.finops.allocation import (
    GROUP_KEYS,
    Matcher,
    Rules,
    as_rules,
    assign,
    matcher,
    read_text,
    warn_unmatched,
    with_columns,
)

STATUSES = ("ok", "projected over", "over")
ALERTS_HELP = "pip install 'usage-frames[alerts]'"


@dataclass(frozen=True, slots=True)
class Budget:
    """One monthly budget.

    Attributes:
        name: Its name.
        monthly: The budget for a calendar month, in the bill's currency.
        match: Which costs count (an empty :class:`Matcher` counts all of them).
        team: A team of the allocation rules whose costs count, instead of ``match``.
    """

    name: str
    monthly: float
    match: Matcher
    team: str | None = None


@dataclass(frozen=True, slots=True)
class Budgets:
    """Budgets, and the allocation rules their ``team =`` entries refer to.

    Attributes:
        budgets: The budgets, in the file's order.
        rules: The ``[[team]]`` rules of the same file, if any.
    """

    budgets: tuple[Budget, ...]
    rules: Rules | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], rules: Rules | None = None) -> Budgets:
        """Budgets from parsed TOML; ``rules`` (when given) replace the file's ``[[team]]`` tables.

        Raises:
            InvalidParameterError: For no budgets, a budget without a positive ``monthly``, an unknown key, a
                ``team`` the rules do not have, or duplicate names.

        Examples:
            >>> Budgets.from_dict({"budget": [{"name": "org", "monthly": 100}]}).budgets[0].monthly
            100.0
        """
        tables = data.get("budget")
        if not isinstance(tables, list) or not tables:
            raise InvalidParameterError("budgets", "no [[budget]]", reason="need at least one [[budget]]")
        rules = rules or (Rules.from_dict(data) if "team" in data else None)
        budgets = []
        for i, table in enumerate(tables, 1):
            found = matcher(table, f"budget {i}", extra=("monthly", "team"))
            monthly, team = table.get("monthly"), table.get("team")
            if isinstance(monthly, bool) or not isinstance(monthly, int | float) or monthly <= 0:
                raise InvalidParameterError(f"budget {i} ({found.name}).monthly", monthly, reason="must be > 0")
            if team is not None:
                names = [t.name for t in rules.teams] if rules else []
                if team not in names:
                    raise InvalidParameterError(
                        f"budget {i} ({found.name}).team", team, names, reason="is not a [[team]] of the rules"
                    )
                if found.match:
                    raise InvalidParameterError(f"budget {i} ({found.name})", "team and IDs", reason="give one of them")
            budgets.append(Budget(found.name, float(monthly), found, team))
        names = [b.name for b in budgets]
        if len(set(names)) < len(names):
            raise InvalidParameterError("budget.name", names, reason="must be unique")
        return cls(tuple(budgets), rules)

    @classmethod
    def from_toml(cls, text: str, rules: Rules | None = None) -> Budgets:
        """Budgets from TOML text.

        Raises:
            InvalidParameterError: For TOML that does not parse, or bad budgets.
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidParameterError("budgets", "TOML", reason=f"does not parse: {exc}") from None
        return cls.from_dict(data, rules)

    @classmethod
    def load(cls, path: str | os.PathLike[str], rules: Rules | None = None) -> Budgets:
        """Budgets from a TOML file.

        Raises:
            InvalidParameterError: If the file cannot be read or parsed, or holds bad budgets.
        """
        return cls.from_toml(read_text(path, "budgets"), rules)

    @property
    def columns(self) -> list[str]:
        """The costs columns the budgets read (those of their IDs, and of the rules when a budget has a team)."""
        used = {c for b in self.budgets for c in b.match.match}
        if self.rules is not None and any(b.team for b in self.budgets):
            used |= set(self.rules.columns)
        return sorted(used)

    @property
    def owners(self) -> list[tuple[str, Matcher]]:
        """What the budgets match on, for :func:`~usage_frames.finops.allocation.warn_unmatched`: their IDs and teams.

        Examples:
            >>> [kind for kind, _ in Budgets.from_dict({"budget": [{"name": "org", "monthly": 1}]}).owners]
            ['budget']
        """
        used = {b.team for b in self.budgets}
        teams = [("team", t) for t in self.rules.teams if t.name in used] if self.rules is not None else []
        return [*(("budget", b.match) for b in self.budgets), *teams]

    @property
    def group_by(self) -> list[str]:
        """The costs grouping the budgets need (``[]`` when they all count the whole organization).

        Examples:
            >>> Budgets.from_dict({"budget": [{"name": "s", "monthly": 1, "user_ids": ["u"]}]}).group_by
            ['user_id']
        """
        keys = {c.replace("_name", "_id") for c in self.columns}
        return [key for key in GROUP_KEYS if key in keys]


def as_budgets(budgets: Budgets | Mapping[str, Any] | str | os.PathLike[str], rules: Any = None) -> Budgets:
    """Budgets as given: :class:`Budgets`, parsed TOML, or a TOML file's path (``rules`` as for allocation).

    Examples:
        >>> as_budgets({"budget": [{"name": "org", "monthly": 10}]}).budgets[0].name
        'org'
    """
    chosen = as_rules(rules) if rules is not None else None
    if isinstance(budgets, Budgets):
        return Budgets(budgets.budgets, chosen or budgets.rules)
    if isinstance(budgets, Mapping):
        return Budgets.from_dict(budgets, chosen)
    return Budgets.load(budgets, chosen)


def as_of(costs: pd.DataFrame, now: pd.Timestamp | None = None) -> pd.Timestamp:
    """The time the budgets speak for: ``now``, else where the data ends; never the machine's clock.

    Where the data ends is the fetched window's end, or the client's clock at fetch time (``attrs["as_of"]``) if
    that is earlier. A window fetched today that ends on 16 October is checked as of 16 October: its month is October.

    Examples:
        >>> from usage_frames import Client
        >>> as_of(Client.sample().costs("2026-10-01"))
        Timestamp('2026-10-21 00:00:00+0000', tz='UTC')
        >>> as_of(Client.fake().costs("2026-10-01", "2026-10-16"))
        Timestamp('2026-10-16 00:00:00+0000', tz='UTC')
    """
    stamps: list[Any] = [now] if now is not None else [costs.attrs[k] for k in ("as_of", "end") if costs.attrs.get(k)]
    if not stamps:
        raise InvalidParameterError("costs", "a frame without attrs", reason="has no as-of time; pass now=")
    whens = [pd.Timestamp(t) for t in stamps]
    return min(t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC") for t in whens)


def check_budgets(
    costs: pd.DataFrame,
    budgets: Budgets | Mapping[str, Any] | str | os.PathLike[str],
    *,
    rules: Rules | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    now: pd.Timestamp | None = None,
    projects: pd.DataFrame | None = None,
    users: pd.DataFrame | None = None,
    api_keys: pd.DataFrame | None = None,
    workspaces: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each budget's month to date, month-end forecast with its 95 % band, and status.

    The status is ``"over"`` when the month to date already exceeds the budget, ``"projected over"`` when the
    forecast does, else ``"ok"``. The month is that of the last data, as for the forecast: costs as of midnight
    on the 1st speak for the month that just ended.

    Args:
        costs: Daily costs from at least a week before this month (four weeks fit the forecast best), grouped by
            :attr:`Budgets.group_by`.
        budgets: :class:`Budgets`, parsed TOML or a TOML file's path.
        rules: Allocation rules for ``team =`` budgets, when the budgets file has no ``[[team]]`` tables.
        now: The "as of" time (default: the data's, see :func:`as_of`).
        projects: ``id``/``name`` frames when budgets match names, as for
            :func:`~usage_frames.finops.allocation.allocate`.
        users: As ``projects``.
        api_keys: As ``projects``.
        workspaces: As ``projects`` (a provider's workspaces).

    Returns:
        One row per budget: ``budget``, ``monthly``, ``month_to_date``, ``projected``, ``lower``, ``upper``,
        ``used_pct``, ``projected_pct``, ``status``, ``as_of``.

    Raises:
        InvalidParameterError: For bad budgets, costs without the keys they need, or too little history.

    Examples:
        >>> from usage_frames import Client
        >>> costs = Client.fake().costs("2026-09-01", "2026-10-16")
        >>> check_budgets(costs, {"budget": [{"name": "org", "monthly": 5000}]})["status"].tolist()
        ['ok']
    """
    chosen = as_budgets(budgets, rules)
    when = as_of(costs, now)
    costs = with_columns(costs, chosen.columns, projects, users, api_keys, workspaces)
    teams = assign(costs, chosen.rules.teams) if chosen.rules is not None else None
    warn_unmatched(costs, chosen.owners, projects=projects, users=users, api_keys=api_keys, workspaces=workspaces)
    days = pd.date_range(pd.Timestamp(costs.attrs["start"]).floor("D"), when, freq="D", inclusive="left")
    # The month of the last data, as the forecast's: at midnight on the 1st, the month that just ended.
    month = (when - pd.Timedelta(seconds=1)).floor("D").replace(day=1)
    # Late in a month, the history the forecast reads (forecast_start) is the month itself: enough.
    if len(days) == 0 or days[0] > max(month - pd.Timedelta(days=7), forecast_start(when)):
        raise InvalidParameterError(
            "costs", f"from {costs.attrs['start']}", reason="must start at least 7 days before this month to forecast"
        )
    amount = costs["amount"].astype("Float64").fillna(0).astype(float)
    day = pd.DatetimeIndex(costs.index).floor("D")
    in_month = (day >= month) & (day < min(when, month + pd.offsets.MonthBegin(1)))
    rows = []
    for budget in chosen.budgets:
        mask = (teams == budget.team).to_numpy() if budget.team and teams is not None else budget.match.mask(costs)
        daily = amount[mask].groupby(day[mask]).sum().reindex(days, fill_value=0.0)
        projection = forecast(daily, now=when).attrs
        projected = float(projection["projected_total"])
        spent = total_cents(amount[mask & in_month]) / 100  # as allocate and FOCUS total it
        status = "over" if spent > budget.monthly else "projected over" if projected > budget.monthly else "ok"
        rows.append({"budget": budget.name, "monthly": budget.monthly, "month_to_date": spent,
                     "projected": round(projected, 2), "lower": round(float(projection["lower_total"]), 2),
                     "upper": round(float(projection["upper_total"]), 2),
                     "used_pct": round(100 * spent / budget.monthly, 1),
                     "projected_pct": round(100 * projected / budget.monthly, 1),
                     "status": status, "as_of": when})  # fmt: skip
    out = pd.DataFrame(rows)
    out.attrs = {**costs.attrs, "as_of": when}
    return out


def lines(status: pd.DataFrame) -> list[str]:
    """One line per budget: name, status, month to date against the budget, and the forecast with its band.

    Examples:
        >>> row = {"budget": "org", "status": "ok", "month_to_date": 10.0, "monthly": 100.0, "used_pct": 10.0,
        ...        "projected": 40.0, "lower": 30.0, "upper": 50.0, "as_of": pd.Timestamp("2026-10-04", tz="UTC")}
        >>> print(lines(pd.DataFrame([row]))[0])
        org: ok: $10.00 of $100.00 (10%) as of 2026-10-04 00:00 UTC; forecast $40.00 ($30.00 to $50.00) by month end
    """
    return [
        f"{r.budget}: {r.status}: ${r.month_to_date:,.2f} of ${r.monthly:,.2f} ({r.used_pct:.0f}%) as of "
        f"{r.as_of:%Y-%m-%d %H:%M} UTC; forecast ${r.projected:,.2f} (${r.lower:,.2f} to ${r.upper:,.2f}) by month end"
        for r in status.itertuples()
    ]


def message(status: pd.DataFrame) -> tuple[str, str] | None:
    """The alert for budgets over or projected over: ``(title, body)``, or ``None`` when all are ok.

    Examples:
        >>> row = {"budget": "org", "status": "over", "month_to_date": 120.0, "monthly": 100.0, "used_pct": 120.0,
        ...        "projected": 400.0, "lower": 300.0, "upper": 500.0, "as_of": pd.Timestamp("2026-10-04", tz="UTC")}
        >>> message(pd.DataFrame([row]))[0]
        'usage-frames: 1 of 1 budgets over or projected over'
        >>> message(pd.DataFrame([{**row, "status": "ok"}])) is None
        True
    """
    alarming = status[status["status"] != "ok"]
    if alarming.empty:
        return None
    title = f"usage-frames: {len(alarming)} of {len(status)} budgets over or projected over"
    return title, "\n".join(lines(alarming))


def notifier(urls: Sequence[str]) -> dict[str, Any]:
    """Per URL (``slack://...``, ``mailto://...``, ``json://host/path``...), checked, an ``apprise.Apprise`` for it.

    One sender per URL, so that :func:`send` can say which target failed (and mask that URL's own secrets).

    Raises:
        InvalidParameterError: Without the ``alerts`` extra (with the install command), or for a URL Apprise
            cannot send to (named by its scheme only: URLs carry tokens).

    Examples:
        >>> len(notifier(["json://127.0.0.1:8000/alerts", "mailto://user:password@example.com"]))
        2
    """
    try:
        import apprise
    except ImportError:
        raise InvalidParameterError("notify", "apprise", reason=f"needs the alerts extra: {ALERTS_HELP}") from None
    senders = {}
    with _quiet():
        for url in urls:
            senders[url] = apprise.Apprise()
            if not senders[url].add(url):
                scheme = url.split("://", 1)[0] + "://..." if "://" in url else "(no scheme)"
                raise InvalidParameterError("notify", scheme, reason="is not a URL Apprise can send to")
    return senders


class AlertNotDeliveredError(UsageFramesError):
    """The budget alert could not be delivered to one or more ``--notify`` targets (``check`` exits 3).

    Attributes:
        failures: One ``"host:port (scheme://): reason"`` per target that failed, with no token of its URL.
    """

    def __init__(self, failures: Sequence[str]) -> None:
        self.failures = list(failures)
        super().__init__(f"the budget alert could not be delivered to {'; '.join(self.failures)}")


def send(senders: Mapping[str, Any], title: str, body: str) -> None:
    """Send one message to every URL of a :func:`notifier`, each on its own so that a failure is named.

    Raises:
        AlertNotDeliveredError: Naming each target that failed (its host and port, from what Apprise tried) and
            why (connection refused, a name that does not resolve, a timeout, the HTTP status), never the token
            or secret parts of its URL.

    Examples:
        >>> send({}, "Budgets", "all ok")  # no target: nothing to deliver, nothing fails
    """
    import apprise

    failures = []
    for url, sender in senders.items():
        with _quiet(), apprise.LogCapture(level=logging.DEBUG) as log:  # type: ignore[no-untyped-call]
            delivered = sender.notify(title=title, body=body)
        if not delivered:
            failures.append(failure(url, getattr(sender[0], "host", None), log.getvalue()))
    if failures:
        raise AlertNotDeliveredError(failures)


def failure(url: str, host: str | None, log: str) -> str:
    """One line on a failed delivery: the host and port Apprise reached for, the URL's scheme, and the reason.

    The target comes from Apprise's own log (the connection it opened, or the URL it posted to), else from the
    URL's host when that looks like one (in ``slack://TokenA/...`` the "host" is a token); every user, password,
    path segment and query value of the URL is masked in what is shown.

    Examples:
        >>> log = ("JSON POST URL: http://127.0.0.1:8799/hook/s3cr3t (cert_verify=True) "
        ...        "Socket Exception: HTTPConnectionPool(host='127.0.0.1', port=8799): Max retries exceeded with url:"
        ...        " /hook/s3cr3t (Caused by NewConnectionError('Failed to establish a new connection: [Errno 111]"
        ...        " Connection refused'))")
        >>> failure("json://127.0.0.1:8799/hook/s3cr3t", "127.0.0.1", log)
        '127.0.0.1:8799 (json://): Connection refused'
        >>> failure("slack://TokenA/TokenB/TokenC", "TokenA", "Failed to send Slack notification: error=404.")
        'slack://...: HTTP 404'
    """
    parts = urlsplit(url)
    pool = re.search(r"host='([^']+)', port=(\d+)", log)
    posted = re.search(r"URL: (https?)://([^/\s:?#]+)(?::(\d+))?", log)
    if pool:
        where = f"{pool.group(1)}:{pool.group(2)}"
    elif posted:
        where = f"{posted.group(2)}:{posted.group(3) or (443 if posted.group(1) == 'https' else 80)}"
    elif host and ("." in host or host == "localhost"):
        where = f"{host}:{parts.port}" if parts.port else host
    else:
        where = ""
    errno = re.findall(r"\[Errno -?\d+\] ([^'\")\]]+)", log)
    ssl = re.search(r"\[SSL: ([A-Z_]+)\]", log)
    status = re.search(r"error=(\d{3})\b", log)
    warned = re.findall(r"(?:WARNING|ERROR) - (.+)", log)
    reason = (errno[-1].strip() if errno else "timed out" if "timed out" in log else f"TLS error {ssl.group(1)}"
              if ssl else f"HTTP {status.group(1)}" if status else warned[-1].strip() if warned else
              "Apprise reported a failure")  # fmt: skip
    line = f"{where} ({parts.scheme}://): {reason}" if where else f"{parts.scheme}://...: {reason}"
    secrets = [parts.username, parts.password, *parts.path.split("/"), *(v for _, v in parse_qsl(parts.query))]
    if host and host not in where:
        secrets.append(host)
    for secret in sorted((s for s in secrets if s and len(s) > 2), key=len, reverse=True):
        line = line.replace(secret, "***")
    return line


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Apprise loads its plugins lazily, and one of them imports the standard library's deprecated ``imghdr``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield
