"""The FinOps subcommands: export (FOCUS), allocate (statements per team), check (budgets).

``check`` exits 0 when every budget is ok, 1 when any is over or projected over, 2 for bad input (``--strict``: a
warning too, such as a budget value that matches no cost), 3 when the alert could not be delivered (one line on
stderr names the target's host:port and why), 4 when the costs could not be read (API, network, cache).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usage_frames._core.errors import (
    CacheMissError,
    InvalidParameterError,
    MissingAPIKeyError,
    UsageFramesError,
    UsageFramesWarning,
)
from usage_frames.providers import Client

if TYPE_CHECKING:
    import pandas as pd

    from usage_frames.finops.allocation import Matcher
from usage_frames.cli.options import (
    CommandLineError,
    client_from,
    create_parent,
    data_options,
    output_option,
    output_path,
    subcommand,
    window_options,
)

FOCUS_SUFFIXES = (".csv", ".parquet")
STATEMENT_SUFFIXES = (".csv",)
OVER, BAD_INPUT, NOT_DELIVERED, NO_DATA = 1, 2, 3, 4  # check's exit statuses (0: every budget ok)
STRICT_HELP = "treat warnings (a rule or budget value that matches no cost...) as errors: exit 2"


def add_export(commands: Any) -> None:
    """Add ``export focus``: the bill as a FOCUS dataset."""
    from usage_frames.finops.focus import FOCUS_VERSIONS

    export = subcommand(commands, "export", "export the bill in a standard format (FOCUS, for FinOps platforms)")
    export.add_argument("format", choices=["focus"], help="focus: the FinOps Foundation's FOCUS schema")
    window_options(export, "inclusive start; default 30 days before --end")
    export.add_argument("--focus-version", default="1.2", choices=list(FOCUS_VERSIONS), help="default 1.2")
    export.add_argument("--billing-account-id", help="the organization's ID, org-... (default OPENAI_ORG_ID)")
    export.add_argument("--billing-account-name", help="the organization's name (FOCUS BillingAccountName)")
    output_option(export, FOCUS_SUFFIXES)
    data_options(export)
    export.set_defaults(run=_export)


def _export(args: argparse.Namespace) -> int:
    import os

    from usage_frames.analysis.money import total_cents
    from usage_frames.finops import focus
    from usage_frames.providers.openai import directory

    if args.output is None:
        raise CommandLineError("export focus needs -o FILE.csv or FILE.parquet")
    output = output_path(args.output, FOCUS_SUFFIXES)
    account = args.billing_account_id or os.environ.get("OPENAI_ORG_ID")
    if not account and (args.sample or args.fake):
        account = "org-sample" if args.sample else "org-fake"  # the fake organization's own ID
    if not account:
        raise CommandLineError("--billing-account-id org-... is needed (FOCUS BillingAccountId), or set OPENAI_ORG_ID")
    client = client_from(args)
    costs = client.costs(args.start, args.end, group_by=["project_id", "line_item"])
    names = {"billing_account_id": account, "billing_account_name": args.billing_account_name}
    table = focus.to_focus(costs, args.focus_version, projects=directory.projects(client), **names)
    focus.write(table, create_parent(output))
    currency = ", ".join(sorted(set(table["BillingCurrency"])))
    billed = total_cents(table["BilledCost"]) / 100  # as allocate and check total it
    print(f"wrote {len(table)} FOCUS {args.focus_version} rows (BilledCost {billed:,.2f} {currency}) to {output}")
    return 0


def _lists(client: Client, costs: pd.DataFrame, matchers: Iterable[Matcher]) -> dict[str, Any]:
    """The organization's lists the rules need: to read names, and to tell an idle ID from a typo.

    A list is fetched for names (``project_names`` needs ``uf.projects()``), and for IDs only when one of them has
    no cost in the window (an ID the list knows is idle, and not warned about).
    """
    from usage_frames.finops.allocation import DIRECTORY
    from usage_frames.providers.openai import directory

    fetch = {"projects": directory.projects, "users": directory.users, "api_keys": directory.api_keys}
    wanted = set()
    for matcher in matchers:
        for column, values in matcher.match.items():
            seen = set(costs[column].dropna().astype(str)) if column in costs.columns else set()
            if column.endswith("_name") or not set(values) <= seen:
                wanted.add(DIRECTORY[column])
    return {name: fetch[name](client) for name in sorted(wanted)}


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
    data_options(allocate)
    allocate.set_defaults(run=_allocate)


def _allocate(args: argparse.Namespace) -> int:
    from usage_frames.analysis.money import total_cents
    from usage_frames.finops.allocation import Rules, allocate

    output = output_path(args.output, STATEMENT_SUFFIXES) if args.output else None
    rules = Rules.load(args.rules)
    client = client_from(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UsageFramesWarning)
        costs = client.costs(args.start, args.end, group_by=rules.group_by)
        statement = allocate(costs, rules, **_lists(client, costs, rules.teams))
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
    data_options(check)
    check.set_defaults(run=_check)


def _check(args: argparse.Namespace) -> int:
    from usage_frames import ops
    from usage_frames.finops import budgets as b
    from usage_frames.finops.allocation import Rules

    chosen = b.Budgets.load(args.budgets, Rules.load(args.rules) if args.rules else None)
    senders = b.notifier(args.notify) if args.notify else None  # checked before any request, even for --dry-run
    client = client_from(args)
    now = client.clock()
    status: pd.DataFrame | UsageFramesError
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UsageFramesWarning)
        try:
            costs = client.costs(ops.forecast_start(now), now, group_by=chosen.group_by)  # the report's forecast too
            lists = _lists(client, costs, [matcher for _, matcher in chosen.owners])
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
