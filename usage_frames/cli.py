"""The ``usage-frames`` command: one small function per subcommand, shared option helpers, one error policy.

Fit for scripts and cron: every error is one line on stderr, exit status 2 for bad input (arguments, no key, a
missing optional dependency), 1 for API failures and data the cache or the sample cannot give, never a traceback;
output folders are created as needed; ``-o`` decides the format by its suffix and refuses others. The admin key is
read from ``OPENAI_ADMIN_KEY`` only: a key on the command line would land in shell history.

Adding a subcommand: write ``_add_NAME(commands)`` (it builds its parser with :func:`_subcommand` and the shared
helpers such as :func:`_data_options`, and sets ``run=``) and append it to :data:`SUBCOMMANDS`.

Examples:
    >>> main(["fetch", "costs", "--fake", "--start", "2026-10-01", "--end", "2026-10-03", "--group-by",
    ...       "project_id"])  # doctest: +ELLIPSIS
    costs 2026-10-01 00:00 .. 2026-10-03 00:00 UTC, 1d buckets, grouped by project_id: 8 rows
    ...
    0
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from usage_frames.client import DEFAULT_WORKERS, Client, __version__
from usage_frames.endpoints import ENDPOINTS, Filter
from usage_frames.errors import CacheMissError, InvalidParameterError, MissingAPIKeyError, UsageFramesError

if TYPE_CHECKING:
    import pandas as pd

FILTERS: dict[str, Filter] = {f.name: f for e in ENDPOINTS.values() for f in e.filters}
TABLE_SUFFIXES = (".csv", ".parquet", ".json")
REPORT_SUFFIXES = (".html",)
PARQUET_HINT = 'Parquet needs pyarrow: pip install "usage-frames[parquet]"'


class CommandLineError(Exception):
    """A command-line mistake found by the command itself (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser without abbreviations whose errors are one line (``--help`` shows the usage)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False  # `sync --end X` must not be read as --endpoint
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --- shared option helpers -------------------------------------------------------------------------------


def _subcommand(commands: Any, name: str, help: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help, description=help[:1].upper() + help[1:])
    return parser


def _window_options(parser: argparse.ArgumentParser, start: str, end: str = "exclusive end; default now") -> None:
    parser.add_argument("--start", help=start)
    parser.add_argument("--end", help=end)


def _data_options(parser: argparse.ArgumentParser, *, cache: bool = True) -> None:
    """Where the data comes from: the API (key from OPENAI_ADMIN_KEY), ``--fake`` or ``--sample``."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--fake", action="store_true", help="answer from the built-in fake organization")
    source.add_argument("--sample", action="store_true", help="answer from the embedded sample data (offline)")
    source.add_argument("--base-url", help="API root (default OPENAI_BASE_URL or https://api.openai.com/v1)")
    if cache:
        parser.add_argument("--no-cache", action="store_true", help="do not read or write the HTTP cache")
        parser.add_argument("--offline", action="store_true", help="answer from the HTTP cache only")
        parser.add_argument(
            "--workers",
            type=_workers,
            default=DEFAULT_WORKERS,
            help="windows fetched at once, or 'auto' (grows while the API answers, backs off on 429)",
        )


def _workers(value: str) -> int | str:
    """``--workers``: a count, or ``auto``."""
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of workers or 'auto'") from None


def _output_option(parser: argparse.ArgumentParser, suffixes: Sequence[str], default: str | None = None) -> None:
    kinds = ", ".join(suffixes)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path(default) if default else None,
        help=f"the file to write, its format by its suffix ({kinds}); folders are created"
        + (f" (default {default})" if default else ""),
    )


def client_from(args: argparse.Namespace) -> Client:
    """The client that the data options (:func:`_data_options`) of a subcommand ask for."""
    options: dict[str, Any] = {k: getattr(args, k) for k in ("workers", "offline") if hasattr(args, k)}
    if args.sample:
        return Client.sample()
    if args.fake:
        return Client.fake(**options)
    return Client(base_url=args.base_url, cache=not getattr(args, "no_cache", False), **options)


def output_path(path: Path, suffixes: Sequence[str]) -> Path:
    """Check an output file's suffix before anything is fetched; Parquet also needs pyarrow.

    Examples:
        >>> output_path(Path("out.xlsx"), TABLE_SUFFIXES)
        Traceback (most recent call last):
        ...
        usage_frames.cli.CommandLineError: -o out.xlsx: unknown suffix '.xlsx'; allowed: .csv, .parquet, .json
    """
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise CommandLineError(f"-o {path}: unknown suffix {suffix!r}; allowed: {', '.join(suffixes)}")
    if suffix == ".parquet":
        need_pyarrow()
    return path


def need_pyarrow() -> None:
    """Refuse Parquet work early, with the install command, when pyarrow is missing."""
    if importlib.util.find_spec("pyarrow") is None:
        raise CommandLineError(PARQUET_HINT)


def _remove_empty_folders(root: Path) -> None:
    """Remove ``root`` and the folders below it that hold no file (never a file)."""
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()


def _create_parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --- fetch -----------------------------------------------------------------------------------------------


def _add_fetch(commands: Any) -> None:
    fetch = _subcommand(commands, "fetch", "fetch one endpoint into a table (CSV, Parquet, JSON or a preview)")
    fetch.add_argument("endpoint", choices=list(ENDPOINTS), metavar="ENDPOINT", help=", ".join(ENDPOINTS))
    _window_options(
        fetch, "inclusive start: ISO date/time (UTC if naive) or Unix seconds; default 30 days before --end"
    )
    fetch.add_argument("--bucket-width", default="1d", choices=["1m", "1h", "1d"])
    fetch.add_argument("--group-by", nargs="+", default=[], metavar="KEY", help="group keys of the endpoint")
    fetch.add_argument("--limit", type=int, help="buckets per page (default: the largest allowed)")
    for flt in FILTERS.values():
        option = "--" + flt.key.replace("_", "-")
        if flt.kind == "bool":
            fetch.add_argument(option, dest=flt.name, action=argparse.BooleanOptionalAction, help=f"filter: {flt.name}")
        else:
            fetch.add_argument(
                option,
                dest=flt.name,
                action="append",
                metavar=flt.key.upper(),
                choices=None if flt.open else flt.choices,
                help=f"filter: {flt.name} (repeatable)",
            )
    _output_option(fetch, TABLE_SUFFIXES)
    fetch.add_argument("--dry-run", action="store_true", help="print what the fetch would cost and send nothing")
    _data_options(fetch)
    fetch.set_defaults(run=_fetch)


def _fetch(args: argparse.Namespace) -> int:
    filters: dict[str, Any] = {name: getattr(args, name) for name in FILTERS if getattr(args, name) is not None}
    request: dict[str, Any] = {"bucket_width": args.bucket_width, "group_by": args.group_by, "limit": args.limit}
    if args.dry_run:
        from usage_frames import plan

        try:
            client: Client | None = client_from(args)
        except MissingAPIKeyError:
            client = None  # a plan sends nothing, so it needs no key (it just cannot count cached windows)
        print(plan(args.endpoint, args.start, args.end, client=client, **request, **filters))
        return 0
    output = output_path(args.output, TABLE_SUFFIXES) if args.output else None
    frame = client_from(args).fetch(args.endpoint, args.start, args.end, **request, **filters)
    if output is None:
        print(preview(frame))
    else:
        write(frame, _create_parent(output))
        print(f"wrote {len(frame)} rows to {output}")
    return 0


def preview(frame: pd.DataFrame, rows: int = 12) -> str:
    """A readable summary of a fetched frame: the window, totals per value column and the first rows.

    Examples:
        >>> print(preview(Client.fake().vector_stores("2026-10-01", "2026-10-02")).splitlines()[0])
        vector_stores 2026-10-01 00:00 .. 2026-10-02 00:00 UTC, 1d buckets: 1 rows
    """
    import pandas as pd

    attrs = frame.attrs
    window = f"{pd.Timestamp(attrs['start']):%Y-%m-%d %H:%M} .. {pd.Timestamp(attrs['end']):%Y-%m-%d %H:%M} UTC"
    grouped = f", grouped by {', '.join(attrs['group_by'])}" if attrs["group_by"] else ""
    lines = [f"{attrs['endpoint']} {window}, {attrs['bucket_width']} buckets{grouped}: {len(frame)} rows"]
    if frame.empty:
        lines.append("No usage in this window for this organization (check the key's organization and the dates).")
        return "\n".join(lines)
    endpoint = ENDPOINTS[attrs["endpoint"]]
    totals = [
        f"{f.name}={frame[f.name].sum():,.2f}" if f.dtype == "Float64" else f"{f.name}={int(frame[f.name].sum()):,}"
        for f in endpoint.fields
        if f.kind == "additive" and frame[f.name].notna().any()
    ]
    if totals:
        lines.append("totals: " + ", ".join(totals[:6]) + (f" (+{len(totals) - 6} more)" if len(totals) > 6 else ""))
    values = [f.name for f in endpoint.fields if frame[f.name].notna().any()]
    shown = frame[[*attrs["group_by"], *values[:4]]]
    lines.append(shown.head(rows).to_string())
    if len(values) > 4:
        lines.append(f"(+{len(values) - 4} more columns: {', '.join(values[4:])})")
    if len(frame) > rows:
        lines.append(f"... {len(frame) - rows} more rows; write them all with -o FILE.csv|.parquet|.json")
    return "\n".join(lines)


def write(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame by the file's suffix (.csv, .parquet, .json).

    Raises:
        InvalidParameterError: For another suffix.
        CommandLineError: For Parquet without pyarrow (with the install command).
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path)
    elif suffix == ".json":
        frame.reset_index().to_json(path, orient="records", date_format="iso", indent=1)
    elif suffix == ".parquet":
        need_pyarrow()
        frame.to_parquet(path)
    else:
        raise InvalidParameterError("output", str(path), TABLE_SUFFIXES, reason="has an unknown suffix")


# --- sync ------------------------------------------------------------------------------------------------


def _add_sync(commands: Any) -> None:
    sync = _subcommand(commands, "sync", "keep a partitioned Parquet dataset up to date (endpoint=/month=)")
    sync.add_argument(
        "path", help="the dataset's root directory (created if needed), or a URL: s3://bucket/usage, gs://..., file://..."
    )
    sync.add_argument(
        "--endpoint",
        action="append",
        choices=list(ENDPOINTS),
        metavar="ENDPOINT",
        help="endpoint to keep (repeatable; default completions and costs)",
    )
    _window_options(sync, "where the first run's backfill starts", "where to stop; default now")
    sync.add_argument("--bucket-width", default="1d", choices=["1m", "1h", "1d"])
    sync.add_argument("--group-by", nargs="+", default=[], metavar="KEY")
    _data_options(sync)
    sync.set_defaults(run=_sync)


def _sync(args: argparse.Namespace) -> int:
    from usage_frames.dataset import sync

    need_pyarrow()  # before anything is fetched or created
    client = client_from(args)
    local = None if "://" in args.path else Path(args.path)
    new = local is not None and not local.exists()
    try:
        results = sync(
            args.path,
            args.endpoint or ("completions", "costs"),
            group_by=args.group_by,
            start=args.start,
            end=args.end if args.end is not None else client.now,  # recorded data ends at its own clock
            bucket_width=args.bucket_width,
            client=client,
        )
    except BaseException:
        if new and local is not None:
            _remove_empty_folders(local)  # a failed first run leaves no empty dataset behind
        raise
    for result in results.values():
        written = ", ".join(result.written) or "nothing"
        print(f"{result.endpoint}: wrote {written} ({result.rows} rows); {len(result.skipped)} settled month(s) kept")
    return 0


# --- report ----------------------------------------------------------------------------------------------


def _add_report(commands: Any) -> None:
    report = _subcommand(commands, "report", "write the spend report (one self-contained HTML file)")
    _window_options(report, "first day of the period (default: the first of this month)", "end (default: now)")
    _output_option(report, REPORT_SUFFIXES, default="report.html")
    report.add_argument("--pictures", type=Path, help="also write the main plots as PNG files into this folder")
    _data_options(report, cache=False)
    report.set_defaults(run=_report)


def _report(args: argparse.Namespace) -> int:
    output = output_path(args.output, REPORT_SUFFIXES)
    client = client_from(args)
    from usage_frames.report import save_pictures, spend_report

    page = spend_report(client, args.start, args.end)
    _create_parent(output).write_text(page, encoding="utf-8")
    print(f"wrote the spend report to {output}")
    if args.pictures:
        names = save_pictures(client, args.pictures)
        print(f"wrote {', '.join(names)} to {args.pictures}")
    return 0


# --- sample-data and serve-fake --------------------------------------------------------------------------


def _add_sample_data(commands: Any) -> None:
    sample = _subcommand(commands, "sample-data", "regenerate the sample data from the fake organization")
    sample.add_argument("path", nargs="?", type=Path, help="where to write (default: where Client.sample() reads)")
    sample.set_defaults(run=_sample_data)


def _sample_data(args: argparse.Namespace) -> int:
    from usage_frames.sample import record, sample_dir

    count = record(args.path)
    print(f"wrote {count} recorded answers to {(args.path or sample_dir()) / 'http'}")
    return 0


def _add_serve_fake(commands: Any) -> None:
    serve = _subcommand(commands, "serve-fake", "serve the fake organization's API on 127.0.0.1 until stopped")
    serve.add_argument("--port", type=int, default=8123, help="the port (0 picks a free one)")
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    serve.add_argument("--rate-limit", type=float, default=0.0, help="share of requests answered 429")
    serve.set_defaults(run=_serve_fake)


def _serve_fake(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM, whatever stdin is (a daemon, a container, a CI step)."""
    import signal
    import threading

    from usage_frames.fake import FakeAPI, FakeServer, Faults

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server = FakeServer(FakeAPI(faults=Faults(latency=args.latency, rate_limit=args.rate_limit)), port=args.port)
    server.start()
    print(f"fake OpenAI organization on {server.url} (any key starting with sk-admin- works); Ctrl-C stops", flush=True)
    print(f"  OPENAI_BASE_URL={server.url} OPENAI_ADMIN_KEY=sk-admin-fake usage-frames fetch costs", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    print("fake OpenAI organization stopped", flush=True)
    return 0


# --- FinOps: export focus, allocate, check ---------------------------------------------------------------

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
    import pandas as pd

    from usage_frames import budgets as b
    from usage_frames.allocation import Rules

    chosen = b.Budgets.load(args.budgets, Rules.load(args.rules) if args.rules else None)
    sender = b.notifier(args.notify) if args.notify else None  # checked before any request, even for --dry-run
    client = client_from(args)
    now = client.clock()
    month = now.floor("D") - pd.Timedelta(days=now.day - 1)
    costs = client.costs(month - pd.Timedelta(days=28), now, group_by=chosen.group_by)
    status = b.check_budgets(costs, chosen, now=now, **_names(client, chosen.columns))
    print("\n".join(b.lines(status)))
    alert = b.message(status)
    if alert is not None and args.dry_run:
        print(f"\nwould send:\n{alert[0]}\n{alert[1]}")
    elif alert is not None and sender is not None:
        b.send(sender, *alert)
        print(f"sent the alert to {len(args.notify)} URL(s)")
    return 0 if alert is None else 1


# --- the command -----------------------------------------------------------------------------------------

SUBCOMMANDS: list[Callable[[Any], None]] = [_add_fetch, _add_sync, _add_report, _add_sample_data, _add_serve_fake,
                                            _add_export, _add_allocate, _add_check]  # fmt: skip


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``usage-frames``, one subparser per entry of :data:`SUBCOMMANDS`."""
    top = _Parser(
        prog="usage-frames",
        description="The OpenAI organization Usage and Costs API as tidy tables. The admin key comes from the "
        "OPENAI_ADMIN_KEY environment variable; --fake (the built-in fake organization) or --sample (the embedded "
        "sample data) need none.",
    )
    top.add_argument("--version", action="version", version=f"usage-frames {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 API failure, 2 bad input).

    Args:
        argv: The arguments (default ``sys.argv[1:]``).
    """
    args = parser().parse_args(argv)
    try:
        status: int = args.run(args)
        return status
    except (InvalidParameterError, MissingAPIKeyError, CommandLineError) as exc:
        return _fail(str(exc), 2)
    except CacheMissError as exc:
        return _fail(str(exc), 1)
    except UsageFramesError as exc:
        return _fail(f"{type(exc).__name__}: {exc}", 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}", 1)
    except Exception as exc:  # a bug: still one line, never a traceback in a cron mail
        return _fail(f"internal error, please report: {type(exc).__name__}: {exc}", 1)


def _fail(message: str, status: int) -> int:
    print(f"usage-frames: error: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
