"""The FinOps subcommands: export (FOCUS), allocate (statements per team), check (budgets)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usage_frames.client import Client

if TYPE_CHECKING:
    pass
from usage_frames.cli.options import (
    CommandLineError,
    _create_parent,
    _data_options,
    _output_option,
    _subcommand,
    _window_options,
    client_from,
    output_path,
)

FOCUS_SUFFIXES = (".csv", ".parquet")
STATEMENT_SUFFIXES = (".csv",)


def _add_export(commands: Any) -> None:
    from usage_frames.focus import FOCUS_VERSIONS

    export = _subcommand(commands, "export", "export the bill in a standard format (FOCUS, for FinOps platforms)")
    export.add_argument("format", choices=["focus"], help="focus: the FinOps Foundation's FOCUS schema")
    _window_options(export, "inclusive start; default 30 days before --end")
    export.add_argument("--focus-version", default="1.2", choices=list(FOCUS_VERSIONS), help="default 1.2")
    export.add_argument("--billing-account-id", help="the organization's ID, org-... (default OPENAI_ORG_ID)")
    export.add_argument("--billing-account-name", help="the organization's name (FOCUS BillingAccountName)")
    _output_option(export, FOCUS_SUFFIXES)
    _data_options(export)
    export.set_defaults(run=_export)


def _export(args: argparse.Namespace) -> int:
    import os

    from usage_frames import focus, organization

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
    table = focus.to_focus(costs, args.focus_version, projects=organization.projects(client), **names)
    focus.write(table, _create_parent(output))
    currency = ", ".join(sorted(set(table["BillingCurrency"])))
    print(f"wrote {len(table)} FOCUS {args.focus_version} rows (BilledCost {table['BilledCost'].sum():,.2f} {currency})"
          f" to {output}")  # fmt: skip
    return 0


def _names(client: Client, columns: Sequence[str]) -> dict[str, Any]:
    """The organization's lists that name-matching rules need (only those)."""
    from usage_frames import organization

    lists = {"project_name": ("projects", organization.projects), "user_name": ("users", organization.users),
             "api_key_name": ("api_keys", organization.api_keys)}  # fmt: skip
    return {lists[c][0]: lists[c][1](client) for c in columns if c in lists}


def _add_allocate(commands: Any) -> None:
    allocate = _subcommand(commands, "allocate", "allocate the bill to teams by rules: a statement per month")
    _window_options(allocate, "inclusive start; default 30 days before --end")
    allocate.add_argument("--rules", type=Path, required=True, help="a TOML file of [[team]] rules")
    _output_option(allocate, STATEMENT_SUFFIXES)
    _data_options(allocate)
    allocate.set_defaults(run=_allocate)


def _allocate(args: argparse.Namespace) -> int:
    from usage_frames.allocation import Rules, allocate

    output = output_path(args.output, STATEMENT_SUFFIXES) if args.output else None
    rules = Rules.load(args.rules)
    client = client_from(args)
    costs = client.costs(args.start, args.end, group_by=rules.group_by)
    statement = allocate(costs, rules, **_names(client, rules.columns))
    if output is None:
        print(statement.to_string(index=False))
    else:
        statement.to_csv(_create_parent(output), index=False)
        print(f"wrote the statement ({len(statement)} rows, {statement['amount'].sum():,.2f}) to {output}")
    return 0


def _add_check(commands: Any) -> None:
    check = _subcommand(commands, "check", "check monthly budgets: exit 0 all ok, 1 any over or projected over")
    check.add_argument("--budgets", type=Path, required=True, help="a TOML file of [[budget]] (and [[team]]) tables")
    check.add_argument("--rules", type=Path, help="[[team]] rules for team budgets, if not in the budgets file")
    check.add_argument("--notify", action="append", default=[], metavar="URL",
                       help="an Apprise URL to alert when a budget needs attention (repeatable; "
                            'pip install "usage-frames[alerts]")')  # fmt: skip
    check.add_argument("--dry-run", action="store_true", help="print the alert instead of sending it")
    _data_options(check)
    check.set_defaults(run=_check)


def _check(args: argparse.Namespace) -> int:
    from usage_frames import budgets as b
    from usage_frames import ops
    from usage_frames.allocation import Rules

    chosen = b.Budgets.load(args.budgets, Rules.load(args.rules) if args.rules else None)
    sender = b.notifier(args.notify) if args.notify else None  # checked before any request, even for --dry-run
    client = client_from(args)
    now = client.clock()
    costs = client.costs(ops.forecast_start(now), now, group_by=chosen.group_by)  # the report's forecast too
    status = b.check_budgets(costs, chosen, now=now, **_names(client, chosen.columns))
    print("\n".join(b.lines(status)))
    alert = b.message(status)
    if alert is not None and args.dry_run:
        print(f"\nwould send:\n{alert[0]}\n{alert[1]}")
    elif alert is not None and sender is not None:
        b.send(sender, *alert)
        print(f"sent the alert to {len(args.notify)} URL(s)")
    return 0 if alert is None else 1
