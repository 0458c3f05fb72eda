"""The data subcommands: fetch, sync, report, sample-data, serve-fake."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usage_frames._core.errors import InvalidParameterError, MissingAPIKeyError
from usage_frames.analysis.frame import endpoint_of
from usage_frames.providers import PACKAGES, PROVIDERS, Client

if TYPE_CHECKING:
    import pandas as pd
from usage_frames.cli.options import (
    ENDPOINT_NAMES,
    FILTERS,
    REPORT_SUFFIXES,
    TABLE_SUFFIXES,
    CommandLineError,
    client_from,
    clients_from,
    create_parent,
    data_options,
    endpoint_provider,
    need_pyarrow,
    output_option,
    output_path,
    remove_empty_folders,
    subcommand,
    window_options,
)


def add_fetch(commands: Any) -> None:
    """Add ``fetch``: one endpoint as a table (a preview, or ``-o`` CSV, Parquet, JSON), or its plan."""
    fetch = subcommand(commands, "fetch", "fetch one endpoint into a table (CSV, Parquet, JSON or a preview)")
    fetch.add_argument("endpoint", choices=ENDPOINT_NAMES, metavar="ENDPOINT", help=", ".join(ENDPOINT_NAMES))
    window_options(
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
    output_option(fetch, TABLE_SUFFIXES)
    fetch.add_argument("--dry-run", action="store_true", help="print what the fetch would cost and send nothing")
    data_options(fetch)
    fetch.set_defaults(run=_fetch)


def _fetch(args: argparse.Namespace) -> int:
    filters: dict[str, Any] = {name: getattr(args, name) for name in FILTERS if getattr(args, name) is not None}
    request: dict[str, Any] = {"bucket_width": args.bucket_width, "group_by": args.group_by, "limit": args.limit}
    provider = endpoint_provider(args)
    provider.endpoint(args.endpoint)  # the provider's own endpoints, before anything else
    if args.dry_run:
        try:
            client: Client | None = client_from(args, provider)
        except MissingAPIKeyError:
            client = None  # a plan sends nothing, so it needs no key (it just cannot count cached windows)
        plan = PACKAGES[provider.name].plan
        print(plan(args.endpoint, args.start, args.end, client=client, **request, **filters))
        return 0
    output = output_path(args.output, TABLE_SUFFIXES) if args.output else None
    frame = client_from(args, provider).fetch(args.endpoint, args.start, args.end, **request, **filters)
    if output is None:
        print(preview(frame))
    else:
        write(frame, create_parent(output))
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
    endpoint = endpoint_of(frame)
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


def add_sync(commands: Any) -> None:
    """Add ``sync``: keep a Parquet dataset of endpoints up to date, month by month."""
    sync = subcommand(
        commands, "sync", "keep a partitioned Parquet dataset up to date (endpoint=/month=; provider= with --provider)"
    )
    sync.add_argument(
        "path", help="the dataset's root directory (created if needed), or a URL: s3://bucket/usage, gs://..., file://..."
    )
    sync.add_argument(
        "--endpoint",
        action="append",
        choices=ENDPOINT_NAMES,
        metavar="ENDPOINT",
        help="endpoint to keep (repeatable; default the provider's usage and costs: completions and costs...)",
    )
    window_options(sync, "where the first run's backfill starts", "where to stop; default now")
    sync.add_argument("--bucket-width", default="1d", choices=["1m", "1h", "1d"])
    sync.add_argument("--group-by", nargs="+", default=[], metavar="KEY")
    data_options(sync, every=True)
    sync.set_defaults(run=_sync)


def _sync(args: argparse.Namespace) -> int:
    from usage_frames.dataset import sync

    need_pyarrow()  # before anything is fetched or created
    clients = clients_from(args)
    local = None if "://" in args.path else Path(args.path)
    new = local is not None and not local.exists()
    layered = args.provider is not None  # a provider= level, so that several providers' datasets sit side by side
    if local is not None and local.is_dir():  # one layout per folder: never the same data twice, at two levels
        found = {entry.name.split("=", 1)[0] for entry in local.iterdir() if "=" in entry.name}
        other = "endpoint" if layered else "provider"
        if other in found:
            raise CommandLineError(
                f"{args.path} holds a dataset {'without' if layered else 'with'} a provider= level: sync it "
                f"{'without' if layered else 'with'} --provider, or into another folder"
            )
    try:
        for client in clients:
            name = client.provider.name
            results = sync(
                f"{args.path.rstrip('/')}/provider={name}" if layered else args.path,
                args.endpoint or client.provider.primary,
                group_by=args.group_by,
                start=args.start,
                end=args.end if args.end is not None else client.now,  # recorded data ends at its own clock
                bucket_width=args.bucket_width,
                client=client,
            )
            for result in results.values():
                written = ", ".join(result.written) or "nothing"
                where = f"provider={name} " if layered else ""
                print(f"{where}{result.endpoint}: wrote {written} ({result.rows} rows); "
                      f"{len(result.skipped)} settled month(s) kept")  # fmt: skip
    except BaseException:
        if new and local is not None:
            remove_empty_folders(local)  # a failed first run leaves no empty dataset behind
        raise
    return 0


# --- report ----------------------------------------------------------------------------------------------


def add_report(commands: Any) -> None:
    """Add ``report``: the spend report as HTML, its figures as JSON, or its pictures."""
    report = subcommand(commands, "report", "write the spend report (one self-contained HTML page), or its figures")
    window_options(report, "first day of the period (default: the first of this month)", "end (default: now)")
    output_option(report, REPORT_SUFFIXES, default="report.html")
    report.add_argument(
        "--pictures", type=Path, help="also write the main plots as PNG files into this folder (of the first provider)"
    )
    data_options(report, cache=False, every=True, keyed=True)
    report.set_defaults(run=_report)


def _report(args: argparse.Namespace) -> int:
    """One provider's report, or with several (every provider with a key, or --provider all) one report of all."""
    output = output_path(args.output, REPORT_SUFFIXES)
    clients = clients_from(args, keyed=True)
    if args.base_url and len(clients) > 1:
        raise CommandLineError("--base-url is one API root: name its provider with --provider")
    whose = "" if len(clients) == 1 else f" ({', '.join(c.provider.title for c in clients)})"
    if output.suffix.lower() == ".json":  # the figures only: no chart is drawn, matplotlib is not imported
        import json

        from usage_frames.report_data import report_data

        text = json.dumps(report_data(clients, args.start, args.end), indent=1, ensure_ascii=False) + "\n"
        create_parent(output).write_text(text, encoding="utf-8")
        print(f"wrote the spend report's figures{whose} to {output}")
    else:
        from usage_frames.report import spend_report

        create_parent(output).write_text(spend_report(clients, args.start, args.end), encoding="utf-8")
        print(f"wrote the spend report{whose} to {output}")
    if args.pictures:
        from usage_frames.report import save_pictures

        names = save_pictures(clients[0], args.pictures)
        print(f"wrote {', '.join(names)} to {args.pictures}")
    return 0


# --- sample-data and serve-fake --------------------------------------------------------------------------


def add_sample_data(commands: Any) -> None:
    """Add ``sample-data``: regenerate every provider's recorded sample from its fake organization."""
    sample = subcommand(commands, "sample-data", "regenerate every provider's sample data from its fake organization")
    sample.add_argument(
        "path", nargs="?", type=Path, help="where to write, a folder per provider (default: where Client.sample reads)"
    )
    sample.set_defaults(run=_sample_data)


def _sample_data(args: argparse.Namespace) -> int:
    for package in PACKAGES.values():  # every provider's recorded sample
        sample = package.sample
        count = sample.record(args.path)
        print(f"wrote {count} recorded answers to {sample.SAMPLE.files(args.path)}")
    return 0


def add_serve_fake(commands: Any) -> None:
    """Add ``serve-fake``: the fake organization's API on 127.0.0.1 until stopped."""
    serve = subcommand(commands, "serve-fake", "serve the fake organization's API on 127.0.0.1 until stopped")
    serve.add_argument("--port", type=int, default=8123, help="the port (0 picks a free one)")
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    serve.add_argument("--rate-limit", type=float, default=0.0, help="share of requests answered 429")
    serve.add_argument("--provider", choices=list(PROVIDERS), help="whose API to imitate (default the first)")
    serve.set_defaults(run=_serve_fake)


def _serve_fake(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM, whatever stdin is (a daemon, a container, a CI step)."""
    import signal
    import threading

    from usage_frames.fake import FakeAPI, FakeServer, Faults
    from usage_frames.providers import fake_organization

    provider = Client.resolve(args.provider or "")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    faults = Faults(latency=args.latency, rate_limit=args.rate_limit)
    server = FakeServer(FakeAPI(fake_organization(provider), faults=faults), port=args.port)
    server.start()
    key, title = provider.credentials, provider.title
    print(f"fake {title} organization on {server.url} (any key starting with {key.prefix} works); Ctrl-C stops",
          flush=True)  # fmt: skip
    flag = "" if provider is next(iter(PROVIDERS.values())) else f" --provider {provider.name}"
    print(f"  {key.base_url_env}={server.url} {key.env}={key.prefix}fake usage-frames fetch costs{flag}", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    print(f"fake {title} organization stopped", flush=True)
    return 0


# --- FinOps: export focus, allocate, check ---------------------------------------------------------------
