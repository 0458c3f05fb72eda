"""The ``usage-frames`` command: subcommands, choices and filter options generated from the endpoint table.

The admin key is read from ``OPENAI_ADMIN_KEY`` only: a key on the command line would land in shell history.

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from usage_frames.client import DEFAULT_WORKERS, Client, __version__
from usage_frames.dataset import sync
from usage_frames.endpoints import ENDPOINTS, Filter
from usage_frames.errors import InvalidParameterError, MissingAPIKeyError, UsageFramesError

FILTERS: dict[str, Filter] = {f.name: f for e in ENDPOINTS.values() for f in e.filters}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="usage-frames",
        description="The OpenAI organization Usage and Costs API as tidy tables. The admin key comes from the "
        "OPENAI_ADMIN_KEY environment variable; --fake uses the built-in fake organization instead.",
    )
    parser.add_argument("--version", action="version", version=f"usage-frames {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fetch = commands.add_parser("fetch", help="fetch one endpoint into a table (CSV, Parquet, JSON or a preview)")
    fetch.add_argument("endpoint", choices=list(ENDPOINTS), metavar="ENDPOINT", help=", ".join(ENDPOINTS))
    fetch.add_argument(
        "--start", help="inclusive start: ISO date/time (UTC if naive) or Unix seconds; default 30 days before --end"
    )
    fetch.add_argument("--end", help="exclusive end; default now (never later)")
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
    fetch.add_argument("-o", "--output", type=Path, help="write .csv, .parquet or .json instead of a preview")
    sync = commands.add_parser("sync", help="keep a partitioned Parquet dataset up to date (endpoint=/month=)")
    fetch.add_argument("--dry-run", action="store_true", help="print what the fetch would cost and send nothing")
    for command in (fetch, sync):
        _client_options(command)

    sync.add_argument("path", type=Path, help="the dataset's root directory")
    sync.add_argument(
        "--endpoint",
        action="append",
        choices=list(ENDPOINTS),
        metavar="ENDPOINT",
        help="endpoint to keep (repeatable; default completions and costs)",
    )
    sync.add_argument("--start", help="where the first run's backfill starts")
    sync.add_argument("--bucket-width", default="1d", choices=["1m", "1h", "1d"])
    sync.add_argument("--group-by", nargs="+", default=[], metavar="KEY")

    report = commands.add_parser("report", help="write the spend report (self-contained HTML)")
    report.add_argument("--sample", action="store_true", help="use the embedded sample data (no key needed)")
    report.add_argument("--start", help="first day of the period (default: the first of this month)")
    report.add_argument("--end", help="end of the period (default: now)")
    report.add_argument("-o", "--output", type=Path, default=Path("report.html"), help="the HTML file to write")
    report.add_argument("--base-url", help="API root (default OPENAI_BASE_URL or https://api.openai.com/v1)")
    report.add_argument("--pictures", type=Path, help="also write the main plots as PNG files into this folder")

    sample = commands.add_parser("sample-data", help="regenerate sample_data/ from the fake organization")
    sample.add_argument("path", nargs="?", type=Path, help="where to write (default: sample_data/ of this tree)")

    serve = commands.add_parser("serve-fake", help="serve the fake organization's API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8123)
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    serve.add_argument("--rate-limit", type=float, default=0.0, help="share of requests answered 429")
    return parser


def _client_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--base-url", help="API root (default OPENAI_BASE_URL or https://api.openai.com/v1)")
    command.add_argument("--fake", action="store_true", help="answer from the built-in fake organization")
    command.add_argument("--no-cache", action="store_true", help="do not read or write the HTTP cache")
    command.add_argument("--offline", action="store_true", help="answer from the HTTP cache only")
    command.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="windows fetched at once")


def _client(args: argparse.Namespace) -> Client:
    options: dict[str, Any] = {"workers": args.workers, "offline": args.offline}
    if args.fake:
        return Client.fake(**options)
    return Client(base_url=args.base_url, cache=not args.no_cache, **options)


def preview(frame: pd.DataFrame, rows: int = 12) -> str:
    """A readable summary of a fetched frame: the window, totals per value column and the first rows.

    Examples:
        >>> print(preview(Client.fake().vector_stores("2026-10-01", "2026-10-02")).splitlines()[0])
        vector_stores 2026-10-01 00:00 .. 2026-10-02 00:00 UTC, 1d buckets: 1 rows
    """
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
        InvalidParameterError: For another suffix, or Parquet without pyarrow (with the install command).
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path)
    elif suffix == ".json":
        frame.reset_index().to_json(path, orient="records", date_format="iso", indent=1)
    elif suffix == ".parquet":
        if importlib.util.find_spec("pyarrow") is None:
            raise InvalidParameterError(
                "output", str(path), reason="needs pyarrow: pip install 'usage-frames[parquet]'"
            )
        frame.to_parquet(path)
    else:
        raise InvalidParameterError("output", str(path), (".csv", ".parquet", ".json"), reason="has an unknown suffix")


def _fetch(args: argparse.Namespace) -> int:
    client = _client(args)
    filters: dict[str, Any] = {name: getattr(args, name) for name in FILTERS if getattr(args, name) is not None}
    request: dict[str, Any] = {"bucket_width": args.bucket_width, "group_by": args.group_by, "limit": args.limit}
    if args.dry_run:
        print(client.plan(args.endpoint, args.start, args.end, **request, **filters))
        return 0
    frame = client.fetch(args.endpoint, args.start, args.end, **request, **filters)
    if args.output is None:
        print(preview(frame))
    else:
        write(frame, args.output)
        print(f"wrote {len(frame)} rows to {args.output}")
    return 0


def _sync(args: argparse.Namespace) -> int:
    results = sync(
        args.path,
        args.endpoint or ("completions", "costs"),
        group_by=args.group_by,
        start=args.start,
        bucket_width=args.bucket_width,
        client=_client(args),
    )
    for result in results.values():
        written = ", ".join(result.written) or "nothing"
        print(f"{result.endpoint}: wrote {written} ({result.rows} rows); {len(result.skipped)} settled month(s) kept")
    return 0


def _report(args: argparse.Namespace) -> int:
    from usage_frames.report import save_pictures, spend_report

    client = Client.sample() if args.sample else Client(base_url=args.base_url)
    args.output.write_text(spend_report(client, args.start, args.end), encoding="utf-8")
    print(f"wrote the spend report to {args.output}")
    if args.pictures:
        names = save_pictures(client, args.pictures)
        print(f"wrote {', '.join(names)} to {args.pictures}")
    return 0


def _sample_data(args: argparse.Namespace) -> int:
    from usage_frames.sample import record, sample_dir

    count = record(args.path)
    print(f"wrote {count} recorded answers to {(args.path or sample_dir()) / 'http'}")
    return 0


def _serve(args: argparse.Namespace) -> int:  # pragma: no cover - runs until interrupted; tested via FakeServer
    from usage_frames.fake import FakeAPI, FakeServer, Faults

    server = FakeServer(FakeAPI(faults=Faults(latency=args.latency, rate_limit=args.rate_limit)), port=args.port)
    print(f"fake OpenAI organization on {server.url} (any key starting with sk-admin- works); Ctrl-C stops")
    print(f"  OPENAI_BASE_URL={server.url} OPENAI_ADMIN_KEY=sk-admin-fake usage-frames fetch costs")
    server.start()
    try:
        while True:
            input()
    except (KeyboardInterrupt, EOFError):
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 API failure, 2 bad arguments or no key).

    Args:
        argv: The arguments (default ``sys.argv[1:]``).
    """
    args = _parser().parse_args(argv)
    try:
        commands = {"fetch": _fetch, "sync": _sync, "report": _report, "sample-data": _sample_data,
                    "serve-fake": _serve}  # fmt: skip
        return commands[args.command](args)
    except (InvalidParameterError, MissingAPIKeyError) as exc:
        print(f"usage-frames: error: {exc}", file=sys.stderr)
        return 2
    except UsageFramesError as exc:
        print(f"usage-frames: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
