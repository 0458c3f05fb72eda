"""The FinOps subcommands: export (FOCUS), allocate (statements per team), check (budgets).

``check`` exits 0 when every budget is ok, 1 when any is over or projected over, 2 for bad input (``--strict``: a
warning too, such as a budget value that matches no cost), 3 when the alert could not be delivered (one line on
stderr names the target's host:port and why), 4 when the costs could not be read (API, network, cache).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usage_frames._core.errors import (
    CacheMissError,
    InvalidParameterError,
    MissingAPIKeyError,
    UnexpectedResponseError,
    UsageFramesError,
    UsageFramesWarning,
)
from usage_frames._core.provider import Provider
from usage_frames._core.schema import Endpoint
from usage_frames.cli.options import (
    CommandLineError,
    clients_from,
    create_parent,
    data_options,
    output_option,
    output_path,
    subcommand,
    window_options,
)
from usage_frames.providers import PACKAGES, PROVIDERS, Client

if TYPE_CHECKING:
    import pandas as pd

    from usage_frames.finops.allocation import Matcher

FOCUS_SUFFIXES = (".csv", ".parquet")
STATEMENT_SUFFIXES = (".csv",)
OVER, BAD_INPUT, NOT_DELIVERED, NO_DATA = 1, 2, 3, 4  # check's exit statuses (0: every budget ok)
STRICT_HELP = "treat warnings (a rule or budget value that matches no cost...) as errors: exit 2"
# The columns of the combined bill of several providers that rules and budgets can match (--provider all).
COMBINED = ("project_id", "project_name", "workspace_id", "workspace_name")
ACCOUNTS_HELP = ", ".join(
    f"{p.credentials.account_env or 'its API'} for {p.title}" for p in PROVIDERS.values()
    if p.credentials.account_env or p.credentials.account_path
)  # fmt: skip


def add_export(commands: Any) -> None:
    """Add ``export focus``: the bill as a FOCUS dataset."""
    from usage_frames.finops.focus import FOCUS_VERSIONS

    export = subcommand(commands, "export", "export the bill in a standard format (FOCUS, for FinOps platforms)")
    export.add_argument("format", choices=["focus"], help="focus: the FinOps Foundation's FOCUS schema")
    window_options(export, "inclusive start; default 30 days before --end")
    export.add_argument("--focus-version", default="1.2", choices=list(FOCUS_VERSIONS), help="default 1.2")
    export.add_argument("--billing-account-id", help=f"the organization's ID (default: {ACCOUNTS_HELP})")
    export.add_argument("--billing-account-name", help="the organization's name (FOCUS BillingAccountName)")
    output_option(export, FOCUS_SUFFIXES)
    data_options(export, every=True)
    export.set_defaults(run=_export)


def _export(args: argparse.Namespace) -> int:
    from usage_frames.analysis.money import total_cents
    from usage_frames.finops import focus

    if args.output is None:
        raise CommandLineError("export focus needs -o FILE.csv or FILE.parquet")
    output = output_path(args.output, FOCUS_SUFFIXES)
    every = args.provider == "all"
    if every and (args.billing_account_id or args.billing_account_name):
        raise CommandLineError(
            f"--billing-account-id and --billing-account-name name one provider's account; with --provider all, "
            f"each provider's own: {ACCOUNTS_HELP}"
        )
    if not every:
        _accounts(args, [Client.resolve(args.provider or "")])  # a missing account is said before a missing key
    clients = clients_from(args)
    accounts = _accounts(args, [client.provider for client in clients])
    frames, ids, names, projects = [], {}, {}, {}
    for client in clients:
        provider, endpoint = client.provider, _billing(client.provider)
        ids[provider.name], names[provider.name] = accounts[provider.name] or _asked(client)
        names[provider.name] = args.billing_account_name or names[provider.name]
        key = endpoint.project_key
        group_by = [k for k in (key, _item_key(provider)) if k]
        frames.append(client.fetch(endpoint.name, args.start, args.end, group_by=group_by))
        if key:
            projects[provider.name] = PACKAGES[provider.name].names(client, keys=[key])[key]
    table = focus.to_focus(frames, args.focus_version, billing_account_id=ids, billing_account_name=names,
                           projects=projects)  # fmt: skip
    focus.write(table, create_parent(output))
    currency = ", ".join(sorted(set(table["BillingCurrency"])))
    billed = total_cents(table["BilledCost"]) / 100  # as allocate and check total it
    print(f"wrote {len(table)} FOCUS {args.focus_version} rows (BilledCost {billed:,.2f} {currency}) to {output}")
    return 0


def _billing(provider: Provider) -> Endpoint:
    """The provider's endpoint that bills (its costs)."""
    return next(e for e in provider.endpoints.values() if e.priced)


def _item_key(provider: Provider) -> str:
    """The group key that names what the provider's cost rows bill (``line_item``, ``description``)."""
    if provider.bill is None:
        raise CommandLineError(f"{provider.title}'s costs do not say what they bill: FOCUS needs it")
    return provider.bill.key


def _accounts(args: argparse.Namespace, providers: list[Provider]) -> dict[str, tuple[str, str | None] | None]:
    """Each provider's billing account (FOCUS ``BillingAccountId``, and a name if known), before any request.

    ``--billing-account-id``, else the provider's variable, else the offline data's placeholder; ``None`` for a
    provider whose API says its organization (asked once its client exists).

    Raises:
        CommandLineError: For a provider whose account is missing, naming it and how to give it.
    """
    found: dict[str, tuple[str, str | None] | None] = {}
    missing = []
    for provider in providers:
        credentials = provider.credentials
        variable = os.environ.get(credentials.account_env) if credentials.account_env else None
        account = args.billing_account_id or variable
        if not account and args.sample:
            account = "org-sample"
        if account or credentials.account_path:
            found[provider.name] = (account, None) if account else None
        elif args.fake:
            found[provider.name] = ("org-fake", None)  # the fake organization's own ID
        else:
            missing.append(provider)
    if missing and len(providers) == 1 and args.provider != "all":
        hint, env = missing[0].credentials.account_hint, missing[0].credentials.account_env
        raise CommandLineError(
            f"--billing-account-id{' ' + hint if hint else ''} is needed (FOCUS BillingAccountId)"
            + (f", or set {env}" if env else "")
        )
    if missing:
        raise CommandLineError("; ".join(
            f"no billing account for {p.title} (FOCUS BillingAccountId): set {p.credentials.account_env}"
            + (f" ({p.credentials.account_hint})" if p.credentials.account_hint else "") for p in missing
        ))  # fmt: skip
    return found


def _asked(client: Client) -> tuple[str, str | None]:
    """The client's organization as its API says it: ID and name."""
    path = client.provider.credentials.account_path
    organization = client.get_object(path)
    account, name = organization.get("id"), organization.get("name")
    if not isinstance(account, str) or not account:
        raise UnexpectedResponseError(f"GET {path}: no organization id")
    return account, name if isinstance(name, str) else None


def _lists(client: Client, costs: pd.DataFrame, matchers: Iterable[Matcher]) -> dict[str, Any]:
    """The organization's lists the rules need: to read names, and to tell an idle ID from a typo.

    A list is fetched for names (``project_names`` needs the projects), and for IDs only when one of them has no
    cost in the window (an ID the list knows is idle, and not warned about). Each list comes from the client's
    provider's directory (``names(client)``), as the argument of ``allocate`` that takes it (``projects=``...).
    """
    from usage_frames.finops.allocation import DIRECTORY

    wanted = set()
    for matcher in matchers:
        for column, values in matcher.match.items():
            seen = set(costs[column].dropna().astype(str)) if column in costs.columns else set()
            if column.endswith("_name") or not set(values) <= seen:
                wanted.add(column.replace("_name", "_id"))
    if not wanted:
        return {}
    found = PACKAGES[client.provider.name].names(client, keys=sorted(wanted))
    return {DIRECTORY[key]: frame for key, frame in found.items()}


def _read(
    args: argparse.Namespace,
    clients: list[Client],
    window: tuple[Any, Any],
    columns: Iterable[str],
    group_by: list[str],
    matchers: Iterable[Matcher],
    source: str,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The costs that rules or budgets read, and the organization's lists they need (``allocate``'s arguments).

    One provider: its costs grouped by ``group_by``. ``--provider all``: the combined bill (``ops.combine``) of
    every provider's costs by its project (or workspace), named from each provider's directory, on which rules match
    projects and workspaces alike.

    Raises:
        CommandLineError: For rules or budgets (``source``: the file) on keys that the provider's costs lack; with
            ``--provider all``, on anything but projects and workspaces.
    """
    import pandas as pd

    from usage_frames.analysis.combine import combine
    from usage_frames.analysis.frame import label
    from usage_frames.finops.allocation import KEYS

    if args.provider != "all":
        provider, endpoint = clients[0].provider, _billing(clients[0].provider)
        foreign = [key for key in group_by if key not in endpoint.group_by]
        if foreign:
            asked = [KEYS.get(c, c) for c in sorted(columns) if c.replace("_name", "_id") in foreign]
            raise CommandLineError(
                f"{source} matches {', '.join(asked or foreign)}, by {', '.join(foreign)}, which {provider.title}'s "
                f"costs do not have (they have {', '.join(endpoint.group_by)}): give the --provider whose bill it is, "
                "or --provider all for projects and workspaces"
            )
        costs = clients[0].fetch(endpoint.name, *window, group_by=group_by)
        return costs, _lists(clients[0], costs, matchers)
    wanted = set(columns)
    if wanted - set(COMBINED):
        other = ", ".join(KEYS[c] for c in sorted(wanted - set(COMBINED)))
        raise CommandLineError(f"--provider all reads the combined bill, by project and workspace: {other} need "
                               "one --provider")  # fmt: skip
    frames, listed = [], []
    for client in clients:
        endpoint = _billing(client.provider)
        key = endpoint.project_key if wanted else None
        costs = client.fetch(endpoint.name, *window, group_by=[key] if key else [])
        if key:
            names = PACKAGES[client.provider.name].names(client, keys=[key])[key]
            costs = label(costs, names={key: names})
            listed.append(names[["id", "name"]])
        frames.append(costs)
    names = pd.concat(listed, ignore_index=True) if listed else None
    return combine(*frames), {"projects": names, "workspaces": names}


def _warned(caught: Iterable[warnings.WarningMessage], strict: bool, stopped: str) -> bool:
    """Print each :class:`UsageFramesWarning` as one line on stderr; with ``--strict``, say what was not done.

    Returns:
        Whether ``--strict`` stops the command (exit 2). Other warnings are issued again, as they came.
    """
    shown = 0
    for caught_one in caught:
        if issubclass(caught_one.category, UsageFramesWarning):
            print(f"usage-frames: warning: {' '.join(str(caught_one.message).split())}", file=sys.stderr)
            shown += 1
        else:
            warnings.warn_explicit(caught_one.message, caught_one.category, caught_one.filename, caught_one.lineno)
    if strict and shown:
        print(f"usage-frames: error: --strict: {shown} warning(s), so {stopped}", file=sys.stderr)
    return strict and shown > 0


def add_allocate(commands: Any) -> None:
    """Add ``allocate``: the bill by team, from rules in TOML."""
    allocate = subcommand(commands, "allocate", "allocate the bill to teams by rules: a statement per month")
    window_options(allocate, "inclusive start; default 30 days before --end")
    allocate.add_argument("--rules", type=Path, required=True, help="a TOML file of [[team]] rules")
    allocate.add_argument("--strict", action="store_true", help=STRICT_HELP + ", and write nothing")
    output_option(allocate, STATEMENT_SUFFIXES)
    data_options(allocate, every=True)
    allocate.set_defaults(run=_allocate)


def _allocate(args: argparse.Namespace) -> int:
    from usage_frames.analysis.money import total_cents
    from usage_frames.finops.allocation import Rules, allocate

    output = output_path(args.output, STATEMENT_SUFFIXES) if args.output else None
    rules = Rules.load(args.rules)
    clients = clients_from(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UsageFramesWarning)
        costs, lists = _read(args, clients, (args.start, args.end), rules.columns, rules.group_by, rules.teams,
                             str(args.rules))  # fmt: skip
        statement = allocate(costs, rules, **lists)
    if _warned(caught, args.strict, "no statement was written"):
        return BAD_INPUT
    if output is None:
        print(statement.to_string(index=False))
    else:
        statement.to_csv(create_parent(output), index=False)
        total = total_cents(statement["amount"]) / 100
        print(f"wrote the statement ({len(statement)} rows, {total:,.2f}) to {output}")
    return 0


def add_check(commands: Any) -> None:
    """Add ``check``: budgets against month to date and forecast, with alerts and exit codes for schedulers."""
    check = subcommand(
        commands,
        "check",
        "check monthly budgets: exit 0 all ok, 1 any over or projected over, 2 bad input, 3 the alert could not be "
        "delivered, 4 the costs could not be read",
    )
    check.add_argument("--budgets", type=Path, required=True, help="a TOML file of [[budget]] (and [[team]]) tables")
    check.add_argument("--rules", type=Path, help="[[team]] rules for team budgets, if not in the budgets file")
    check.add_argument("--notify", action="append", default=[], metavar="URL",
                       help="an Apprise URL to alert when a budget needs attention (repeatable; "
                            'pip install "usage-frames[alerts]")')  # fmt: skip
    check.add_argument("--dry-run", action="store_true", help="print the alert instead of sending it")
    check.add_argument("--strict", action="store_true", help=STRICT_HELP + ", before any alert is sent")
    data_options(check, every=True)
    check.set_defaults(run=_check)


def _check(args: argparse.Namespace) -> int:
    from usage_frames import ops
    from usage_frames.finops import budgets as b
    from usage_frames.finops.allocation import Rules

    chosen = b.Budgets.load(args.budgets, Rules.load(args.rules) if args.rules else None)
    senders = b.notifier(args.notify) if args.notify else None  # checked before any request, even for --dry-run
    clients = clients_from(args)
    now = min(client.clock() for client in clients)
    status: pd.DataFrame | UsageFramesError
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UsageFramesWarning)
        try:
            window = (ops.forecast_start(now), now)  # the report's forecast reads the same
            matchers = [matcher for _, matcher in chosen.owners]
            costs, lists = _read(args, clients, window, chosen.columns, chosen.group_by, matchers,
                                 str(args.rules or args.budgets))  # fmt: skip
            status = b.check_budgets(costs, chosen, now=now, **lists)
        except (InvalidParameterError, MissingAPIKeyError):
            raise
        except UsageFramesError as exc:  # API, network, cache: not "over budget" (1), a scheduler must tell
            status = exc
    stop = _warned(caught, args.strict, "no budget was checked and no alert sent")
    if isinstance(status, UsageFramesError):  # worded as the other commands word it
        text = str(status) if isinstance(status, CacheMissError) else f"{type(status).__name__}: {status}"
        print(f"usage-frames: error: {' '.join(text.split())}", file=sys.stderr)
        return NO_DATA
    if stop:
        return BAD_INPUT
    print("\n".join(b.lines(status)))
    alert = b.message(status)
    if alert is not None and args.dry_run:
        print(f"\nwould send:\n{alert[0]}\n{alert[1]}")
    elif alert is not None and senders is not None:
        try:
            b.send(senders, *alert)
        except b.AlertNotDeliveredError as exc:
            print(f"usage-frames: error: {exc}", file=sys.stderr)
            return NOT_DELIVERED
        print(f"sent the alert to {len(senders)} URL(s)")
    return 0 if alert is None else OVER
