"""Allocation of the bill to teams: rules in TOML, first match wins, an ``unallocated`` row, cents that add up.

Rules (``tomllib``; every list is optional, a team needs at least one)::

    split = ["unallocated"]          # optional: spread these over the other teams, in proportion to their spend

    [[team]]
    name = "search"
    project_ids = ["proj_search"]    # also user_ids, api_key_ids, workspace_ids, and their *_names

    [[team]]
    name = "chat"
    project_ids = ["proj_chat", "proj_batch"]

A costs row goes to the first team with a matching ID (or name); what no team matches is ``unallocated``. ``split``
names teams whose cost is shared (a platform team) and/or ``"unallocated"``, divided among the other teams in
proportion to their direct charges in the same month.

The costs must be grouped by every key the rules match on (:attr:`Rules.group_by`; OpenAI may refuse ``user_id``
with ``project_id``); Anthropic's null ``workspace_id`` is its default workspace, matched by ``workspace_names``.

Examples:
    >>> from usage_frames import Client
    >>> rules = Rules.from_toml('''
    ... [[team]]
    ... name = "search"
    ... project_ids = ["proj_search"]
    ... [[team]]
    ... name = "chat"
    ... project_ids = ["proj_chat", "proj_batch"]
    ... ''')
    >>> rules.group_by
    ['project_id']
    >>> costs = Client.sample().costs("2026-10-01", "2026-10-21", group_by="project_id")
    >>> allocate(costs, rules)[["team", "amount", "share_pct"]]
              team  amount  share_pct
    0       search  489.75      34.66
    1         chat  800.77      56.67
    2  unallocated  122.43       8.66
"""

from __future__ import annotations

import difflib
import os
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from usage_frames._core.errors import InvalidParameterError, UsageFramesWarning
from usage_frames.analysis.frame import ALL, endpoint_of, label
from usage_frames.analysis.money import exact_total, total_cents

UNALLOCATED = "unallocated"
# What a rule may match on: its TOML key -> the costs column it reads.
MATCHERS: Mapping[str, str] = {
    "project_ids": "project_id",
    "user_ids": "user_id",
    "api_key_ids": "api_key_id",
    "project_names": "project_name",
    "user_names": "user_name",
    "api_key_names": "api_key_name",
    "workspace_ids": "workspace_id",  # a workspace bills as a project does
    "workspace_names": "workspace_name",
}
K = TypeVar("K")
# The group keys the rules' columns need, in the order a costs fetch asks for them (a name needs its ID).
GROUP_KEYS = ("project_id", "user_id", "api_key_id", "workspace_id")
KEYS: Mapping[str, str] = {column: key for key, column in MATCHERS.items()}  # the costs column -> its TOML key
# The organization's list that knows the values of each column (the argument of allocate that passes it).
DIRECTORY: Mapping[str, str] = {"project_id": "projects", "project_name": "projects", "user_id": "users",
                                "user_name": "users", "api_key_id": "api_keys", "api_key_name": "api_keys",
                                "workspace_id": "workspaces", "workspace_name": "workspaces"}  # fmt: skip
STATEMENT_COLUMNS = ["period", "period_start", "period_end", "team", "direct", "shared", "amount", "share_pct",
                     "currency"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Matcher:
    """Who a team (or a budget) is: the IDs and names its costs rows carry.

    Attributes:
        name: The team's (or budget's) name.
        match: Per costs column (``project_id``, ``user_name``...), the values that match.
    """

    name: str
    match: Mapping[str, tuple[str, ...]]

    def mask(self, costs: pd.DataFrame) -> np.ndarray:
        """Which rows of ``costs`` match (any of the lists); an empty matcher matches every row."""
        if not self.match:
            return np.ones(len(costs), dtype=bool)
        hits = np.zeros(len(costs), dtype=bool)
        for column, values in self.match.items():
            hits |= costs[column].astype(object).isin(values).to_numpy()
        return hits


def matcher(table: Mapping[str, Any], where: str, extra: Sequence[str] = ()) -> Matcher:
    """A :class:`Matcher` from one TOML table (``[[team]]`` or ``[[budget]]``), checked key by key.

    Args:
        table: The parsed table.
        where: Its place in the file, for errors (``"team 2"``).
        extra: Other keys the table may have (``monthly`` for budgets).

    Raises:
        InvalidParameterError: For a missing name, an unknown key, or a list that is not a list of strings.

    Examples:
        >>> matcher({"name": "search", "project_ids": ["proj_search"]}, "team 1").match
        {'project_id': ('proj_search',)}
    """
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterError(f"{where}.name", name, reason="must be a non-empty string")
    match: dict[str, tuple[str, ...]] = {}
    for key, value in table.items():
        if key == "name" or key in extra:
            continue
        if key not in MATCHERS:
            raise InvalidParameterError(f"{where} ({name})", key, (*MATCHERS, *extra), reason="is not a known key")
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise InvalidParameterError(f"{where} ({name}).{key}", value, reason="must be a list of strings")
        match[MATCHERS[key]] = tuple(value)
    return Matcher(name.strip(), match)


@dataclass(frozen=True, slots=True)
class Rules:
    """Allocation rules: teams in order (first match wins) and what to split among them.

    Attributes:
        teams: The teams, each a :class:`Matcher` with at least one list.
        split: Team names (and/or ``"unallocated"``) whose cost is shared out in proportion to direct spend.
    """

    teams: tuple[Matcher, ...]
    split: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rules:
        """Rules from parsed TOML (``{"team": [...], "split": [...]}``).

        Raises:
            InvalidParameterError: For no teams, a team without a list, duplicate names or an unknown ``split``.

        Examples:
            >>> Rules.from_dict({"team": [{"name": "lab", "api_key_ids": ["key_lab"]}]}).group_by
            ['api_key_id']
        """
        tables = data.get("team")
        if not isinstance(tables, list) or not tables:
            raise InvalidParameterError("rules", "no [[team]]", reason="need at least one [[team]] with a name")
        teams = tuple(matcher(t, f"team {i}") for i, t in enumerate(tables, 1))
        names = [t.name for t in teams]
        for team in teams:
            if not team.match:
                raise InvalidParameterError(f"team {team.name}", "no lists", tuple(MATCHERS), reason="matches nothing")
            if team.name == UNALLOCATED or names.count(team.name) > 1:
                raise InvalidParameterError("team.name", team.name, reason="is reserved or used twice")
        split = data.get("split", [])
        split = [split] if isinstance(split, str) else split
        if not isinstance(split, list) or any(s not in (*names, UNALLOCATED) for s in split):
            raise InvalidParameterError("split", split, (*names, UNALLOCATED), reason="must name teams")
        if set(names) <= set(split):
            raise InvalidParameterError("split", split, reason="leaves no team to split the cost over")
        return cls(teams, tuple(split))

    @classmethod
    def from_toml(cls, text: str) -> Rules:
        """Rules from TOML text.

        Raises:
            InvalidParameterError: For TOML that does not parse (with the parser's line and column).
        """
        try:
            return cls.from_dict(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise InvalidParameterError("rules", "TOML", reason=f"does not parse: {exc}") from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Rules:
        """Rules from a TOML file.

        Raises:
            InvalidParameterError: If the file cannot be read or parsed.
        """
        return cls.from_toml(read_text(path, "rules"))

    @property
    def columns(self) -> list[str]:
        """The costs columns the rules read (IDs and names), in :data:`MATCHERS` order."""
        used = {column for team in self.teams for column in team.match}
        return [column for column in MATCHERS.values() if column in used]

    @property
    def group_by(self) -> list[str]:
        """The costs grouping the rules need: a name needs its ID (``project_name`` -> ``project_id``)."""
        keys = {column.replace("_name", "_id") for column in self.columns}
        return [key for key in GROUP_KEYS if key in keys]


def read_text(path: str | os.PathLike[str], argument: str) -> str:
    """The text of a rules or budgets file, or an argument error naming ``argument`` and why it cannot be read.

    Examples:
        >>> read_text("no-such-rules.toml", "rules")
        Traceback (most recent call last):
        ...
        usage_frames.InvalidParameterError: rules: 'no-such-rules.toml' cannot be read: No such file or directory
    """
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidParameterError(argument, str(path), reason=f"cannot be read: {exc.strerror}") from None


def as_rules(rules: Rules | Mapping[str, Any] | str | os.PathLike[str]) -> Rules:
    """Rules as given: a :class:`Rules`, parsed TOML, or the path of a TOML file.

    Examples:
        >>> as_rules({"team": [{"name": "lab", "project_ids": "proj_lab"}]}).teams[0].match
        {'project_id': ('proj_lab',)}
    """
    if isinstance(rules, Rules):
        return rules
    if isinstance(rules, Mapping):
        return Rules.from_dict(rules)
    return Rules.load(rules)


def with_columns(
    costs: pd.DataFrame,
    columns: Sequence[str],
    projects: pd.DataFrame | None = None,
    users: pd.DataFrame | None = None,
    api_keys: pd.DataFrame | None = None,
    workspaces: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Costs with the columns rules read: names added from the lists given, every column checked.

    The combined bill of several providers (``ops.combine``) holds projects and workspaces alike in
    ``project_id`` (and their names in ``project_name``): rules on workspaces read those there.

    Raises:
        InvalidParameterError: Naming the grouping (or the names) that the costs lack.

    Examples:
        >>> from usage_frames import Client
        >>> costs = Client.fake().costs("2026-10-01", "2026-10-02", group_by="line_item")
        >>> with_columns(costs, ["project_id"])
        Traceback (most recent call last):
        ...
        usage_frames.InvalidParameterError: costs: ['line_item'] has no project_id column: fetch costs \
with group_by=['project_id']
    """
    if not endpoint_of(costs).priced:
        raise InvalidParameterError("costs", endpoint_of(costs).name, ("costs",))
    if endpoint_of(costs).provider == ALL.name:  # the combined bill: a workspace is a project there
        costs = costs.assign(**{c: costs[c.replace("workspace", "project")] for c in columns
                                if c.startswith("workspace_") and c.replace("workspace", "project") in costs})
    if any(c.endswith("_name") and c not in costs.columns for c in columns):
        costs = label(costs, projects=projects, users=users, api_keys=api_keys,
                      names={"workspace_id": workspaces} if workspaces is not None else None)
    for column in columns:
        if column not in costs.columns:
            key = column.replace("_name", "_id")
            kind = key.removesuffix("_id")
            hint = f"fetch costs with group_by={[key]}" if key not in costs.columns else (
                f"pass {kind}s= (uf.{kind}s()) or label the costs first")  # fmt: skip
            raise InvalidParameterError(
                "costs", costs.attrs.get("group_by", []), reason=f"has no {column} column: {hint}"
            )
    return costs


def assign(costs: pd.DataFrame, teams: Sequence[Matcher]) -> pd.Series:
    """The team of each costs row: the first that matches, else ``"unallocated"``.

    Examples:
        >>> from usage_frames import Client
        >>> costs = Client.fake().costs("2026-10-01", "2026-10-02", group_by="project_id")
        >>> assign(costs, [Matcher("lab", {"project_id": ("proj_lab",)})]).tolist()
        ['unallocated', 'unallocated', 'unallocated', 'lab']
    """
    team = np.full(len(costs), UNALLOCATED, dtype=object)
    free = np.ones(len(costs), dtype=bool)
    for rule in teams:
        hits = free & rule.mask(costs)
        team[hits] = rule.name
        free &= ~hits
    return pd.Series(team, index=costs.index, name="team")


def warn_unmatched(
    costs: pd.DataFrame,
    owners: Sequence[tuple[str, Matcher]],
    *,
    projects: pd.DataFrame | None = None,
    users: pd.DataFrame | None = None,
    api_keys: pd.DataFrame | None = None,
    workspaces: pd.DataFrame | None = None,
) -> None:
    """Warn about each rule or budget value that matches no costs row and that the organization's lists lack.

    A value without costs that the lists given know (``uf.projects()``, ``uf.users()``, ``uf.api_keys()``) is an
    idle project, user or key: its team or budget is rightly $0.00 and nothing is said. A value that neither the
    costs nor the lists know is most likely a typo: a :class:`~usage_frames.UsageFramesWarning` names it, the
    window, and the closest known value. Without lists, every value without costs is named (the data alone cannot
    tell idle from misspelt).

    Args:
        costs: The costs the rules or budgets were applied to (with the columns they read).
        owners: ``(kind, matcher)`` pairs, such as ``("team", Matcher(...))``; the kind starts the message.
        projects: The organization's projects (``id``, ``name``), if known.
        users: Its users (``id``, ``name`` or ``email``), if known.
        api_keys: Its API keys (``id``, ``name``), if known.
        workspaces: Its workspaces (``id``, ``name``), if known.

    Examples:
        >>> import warnings
        >>> from usage_frames import Client
        >>> costs = Client.sample().costs("2026-10-01", "2026-10-21", group_by="project_id")
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_unmatched(costs, [("budget", Matcher("search", {"project_id": ("proj_serch",)}))])
        >>> print(caught[0].message)
        budget 'search': project_ids 'proj_serch' matches no cost in 2026-10 (did you mean 'proj_search'?)
    """
    lists = {"projects": projects, "users": users, "api_keys": api_keys, "workspaces": workspaces}
    for kind, owner in owners:
        for column, values in owner.match.items():
            seen = set(costs[column].dropna().astype(str)) if column in costs.columns else set()
            known = seen | _listed(column, lists)
            for value in (v for v in values if v not in known):
                close = difflib.get_close_matches(value, sorted(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                hint = _unnamed(column, value, lists) or hint  # a default workspace: its rows carry no id
                said = f"{kind} {owner.name!r}: {KEYS[column]} {value!r} matches no cost {_period(costs)}{hint}"
                warnings.warn(said, UsageFramesWarning, stacklevel=3)


def _unnamed(column: str, value: str, lists: Mapping[str, pd.DataFrame | None]) -> str | None:
    """What to say of a listed entry whose id is ``value`` but whose cost rows carry none (``listed_id``), if any."""
    listed = lists.get(DIRECTORY.get(column, ""))
    if listed is None or "listed_id" not in listed.columns:
        return None
    hit = [repr(n) for n in listed["name"][listed["id"].isna() & (listed["listed_id"] == value)]]
    key = KEYS[column.replace("_id", "_name")]
    return f" (it is {hit[0]}, whose costs carry no {column}: match it by name, {key} = [{hit[0]}])" if hit else None


def _listed(column: str, lists: Mapping[str, pd.DataFrame | None]) -> set[str]:
    """The values of a costs column that the organization's lists know: IDs, or names as :func:`label` gives them."""
    frame = lists[DIRECTORY[column]]
    if frame is None:
        return set()
    if column.endswith("_id"):
        return set(frame["id"].dropna().astype(str))
    text = frame["name"] if "name" in frame else frame["email"]
    return set(text.fillna(frame.get("email", text)).dropna().astype(str))


def _period(costs: pd.DataFrame) -> str:
    """The window of a costs frame in words: ``in 2026-10`` for (part of) one month from its first day."""
    # Costs come in whole UTC days: the first day from its midnight, the last to its end or the data's clock.
    start, end = pd.Timestamp(costs.attrs["start"]).floor("D"), pd.Timestamp(costs.attrs["end"]).ceil("D")
    end = min(end, pd.Timestamp(costs.attrs.get("as_of") or end))
    if start.day == 1 and end <= start + pd.offsets.MonthBegin(1):
        return f"in {start:%Y-%m}"
    return f"from {start:%Y-%m-%d} to {end:%Y-%m-%d}" + ("" if end == end.floor("D") else f" {end:%H:%M} UTC")


def allocate(
    costs: pd.DataFrame,
    rules: Rules | Mapping[str, Any] | str | os.PathLike[str],
    *,
    projects: pd.DataFrame | None = None,
    users: pd.DataFrame | None = None,
    api_keys: pd.DataFrame | None = None,
    workspaces: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The allocation statement: per calendar month and team, the spend charged directly, shared in, and in total.

    Money is summed exactly and rounded once (:func:`usage_frames.analysis.money.total_cents`): the statement's
    cents add up to the window's bill rounded to the cent, which is also what the FOCUS export and
    ``round(costs["amount"].sum(), 2)`` say. Rounding each row on its own would lose or add cents, so the odd cents
    go to the largest remainders: first to months (each month's rows add up to its bill within a cent; exactly, when
    the window is one month), then to teams (each team within a cent of its own total). ``direct + shared ==
    amount`` on every row, and ``shared`` adds up to zero.

    A rule value (ID or name) that matches no costs row of the window and is not in the lists given
    (``projects``...) is named in a :class:`~usage_frames.UsageFramesWarning`, with the closest known value (see
    :func:`warn_unmatched`).

    Args:
        costs: Costs grouped by :attr:`Rules.group_by` (any other keys, such as ``line_item``, are summed).
        rules: :class:`Rules`, parsed TOML, or a TOML file's path.
        projects: ``id``/``name`` frames (``uf.projects()``...) when rules match names; or label the costs first.
            Also where a value without costs is looked up: if it is there, it is idle, not a typo.
        users: As ``projects``, for ``user_ids`` and ``user_names``.
        api_keys: As ``projects``, for ``api_key_ids`` and ``api_key_names``.
        workspaces: As ``projects``, for ``workspace_ids`` and ``workspace_names`` (a provider's workspaces).

    Returns:
        One row per month and team (the rules' order, then ``unallocated``): ``period`` (``YYYY-MM``),
        ``period_start``, ``period_end`` (the whole UTC days of the month that the window's costs cover, the
        day in progress to the data's clock), ``team``, ``direct``,
        ``shared`` (split in, or out as a negative), ``amount``, ``share_pct`` of the month, ``currency``.

    Raises:
        InvalidParameterError: For bad rules, or costs without the columns the rules read.

    Examples:
        >>> from usage_frames import Client
        >>> rules = {"team": [{"name": "search", "project_ids": ["proj_search"]},
        ...                   {"name": "chat", "project_ids": ["proj_chat"]}], "split": ["unallocated"]}
        >>> costs = Client.sample().costs("2026-10-01", "2026-10-21", group_by="project_id")
        >>> allocate(costs, rules)[["team", "direct", "shared", "amount"]]
                  team  direct  shared  amount
        0       search  489.75   87.19  576.94
        1         chat  709.67  126.34  836.01
        2  unallocated  213.53 -213.53    0.00
    """
    rules = as_rules(rules)
    costs = with_columns(costs, rules.columns, projects, users, api_keys, workspaces)
    warn_unmatched(costs, [("team", t) for t in rules.teams], projects=projects, users=users, api_keys=api_keys,
                   workspaces=workspaces)  # fmt: skip
    team = assign(costs, rules.teams)
    days = pd.DatetimeIndex(costs.index).floor("D")
    month = (days - pd.to_timedelta(days.day - 1, unit="D")).tz_convert("UTC")
    # Exact sums per month and team (the frame's floats read as the decimals the API sent).
    direct = costs["amount"].groupby([month, team.to_numpy()]).agg(exact_total)
    # Costs come in whole UTC days: the first day from its midnight, the last to its end or the data's clock.
    start, end = pd.Timestamp(costs.attrs["start"]).floor("D"), pd.Timestamp(costs.attrs["end"]).ceil("D")
    end = min(end, pd.Timestamp(costs.attrs.get("as_of") or end))
    months = pd.date_range(start - pd.to_timedelta(start.day - 1, unit="D"), end, freq="MS", inclusive="left")
    names = [*(t.name for t in rules.teams), UNALLOCATED]
    spent = {first: {name: direct.get((first, name), Decimal(0)) for name in names} for first in months}
    total = total_cents(v for month_spent in spent.values() for v in month_spent.values())
    per_month = _apportion(total, {first: sum(v.values(), Decimal(0)) for first, v in spent.items()})
    currency = costs["currency"].dropna().str.upper()
    rows = []
    for first in months:
        shared = _shares(spent[first], rules.split)
        charged = _apportion(per_month[first], spent[first])
        cents = _apportion(per_month[first], {name: spent[first][name] + shared[name] for name in names})
        for name in names:
            rows.append({
                "period": f"{first:%Y-%m}", "period_start": max(first, start),
                "period_end": min(first + pd.offsets.MonthBegin(1), end), "team": name,
                "direct": charged[name] / 100, "shared": (cents[name] - charged[name]) / 100,
                "amount": cents[name] / 100,
                "share_pct": round(cents[name] / per_month[first] * 100, 2) if per_month[first] else 0.0,
                "currency": currency.iloc[0] if len(currency) else "USD",
            })  # fmt: skip
    out = pd.DataFrame(rows, columns=STATEMENT_COLUMNS)
    out.attrs = {**costs.attrs, "rules": [t.name for t in rules.teams], "split": list(rules.split)}
    return out


def _shares(spent: Mapping[str, Decimal], split: Sequence[str]) -> dict[str, Decimal]:
    """What each team gets of the split pool (negative for the split ones), in proportion to direct spend."""
    shared = dict.fromkeys(spent, Decimal(0))
    receivers = [name for name in spent if name not in split]
    base = sum((spent[name] for name in receivers), Decimal(0))
    if not split or base <= 0:
        return shared  # nothing to split, or nobody to split it over: the cost stays where it is
    pool = sum((spent[name] for name in split), Decimal(0))
    for name in receivers:
        shared[name] = pool * spent[name] / base
    for name in split:
        shared[name] = -spent[name]
    return shared


def _apportion(cents: int, amounts: Mapping[K, Decimal]) -> dict[K, int]:
    """``cents`` split over the keys as close to their exact amounts as whole cents allow (largest remainders).

    ``cents`` is the rounded total of ``amounts`` (or within a cent of it), so each key gets its amount in cents
    rounded down or up.
    """
    exact = {key: value * 100 for key, value in amounts.items()}
    floors = {key: int(value.to_integral_value(rounding=ROUND_FLOOR)) for key, value in exact.items()}
    order = sorted(exact, key=lambda key: exact[key] - floors[key], reverse=True)
    for key in order[: cents - sum(floors.values())]:
        floors[key] += 1
    return floors
