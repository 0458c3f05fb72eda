"""What the subcommands share: the parser class, option helpers, the client from the options, output paths."""

from __future__ import annotations

import argparse
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from usage_frames._core.errors import MissingAPIKeyError
from usage_frames._core.provider import Provider
from usage_frames._core.schema import Filter
from usage_frames.providers import DEFAULT, PROVIDERS, Client

if TYPE_CHECKING:
    pass

# Every provider's endpoints and filters (a command checks them against the provider it reads).
ENDPOINT_NAMES: list[str] = list(dict.fromkeys(e for p in PROVIDERS.values() for e in p.endpoints))
FILTERS: dict[str, Filter] = {f.name: f for p in PROVIDERS.values() for e in p.endpoints.values() for f in e.filters}
KEYS_HELP = " or ".join(f"{p.credentials.env} ({p.title})" for p in PROVIDERS.values())
TABLE_SUFFIXES = (".csv", ".parquet", ".json")
REPORT_SUFFIXES = (".html", ".json")
PARQUET_HINT = 'Parquet needs pyarrow: pip install "usage-frames[parquet]"'


class CommandLineError(Exception):
    """A command-line mistake found by the command itself (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """An argument parser without abbreviations whose errors are one line (``--help`` shows the usage)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False  # `sync --end X` must not be read as --endpoint
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Exit 2 with the message in one line and a pointer to ``--help``."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --- shared option helpers -------------------------------------------------------------------------------


def subcommand(commands: Any, name: str, help: str) -> argparse.ArgumentParser:
    """A subcommand's parser, with the shared error policy (one line, exit 2)."""
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help, description=help[:1].upper() + help[1:])
    return parser


def window_options(parser: argparse.ArgumentParser, start: str, end: str = "exclusive end; default now") -> None:
    """Add ``--start`` and ``--end`` with their help texts."""
    parser.add_argument("--start", help=start)
    parser.add_argument("--end", help=end)


def data_options(
    parser: argparse.ArgumentParser, *, cache: bool = True, every: bool = False, keyed: bool = False
) -> None:
    """Where the data comes from: a provider's API (its key from its variable), ``--fake`` or ``--sample``.

    Args:
        parser: The subcommand's parser.
        cache: Add the cache options.
        every: ``--provider all`` is allowed (every provider with a key, or every one with ``--fake``/``--sample``).
        keyed: ``all`` is the default (see :func:`clients_from`).
    """
    choices = [*PROVIDERS, *(["all"] if every else [])]
    parser.add_argument(
        "--provider",
        choices=choices,
        help=f"whose reports to read: {', '.join(choices)} (default {'all' if keyed else DEFAULT.name}"
        + ("; all: every provider with a key, or every one with --fake or --sample)" if every else ")"),
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--fake", action="store_true", help="answer from the built-in fake organization")
    source.add_argument("--sample", action="store_true", help="answer from the embedded sample data (offline)")
    source.add_argument("--base-url", help="API root (default: the provider's base URL variable, else its API)")
    if cache:
        parser.add_argument("--no-cache", action="store_true", help="do not read or write the HTTP cache")
        parser.add_argument("--offline", action="store_true", help="answer from the HTTP cache only")
        parser.add_argument(
            "--workers",
            type=_workers,
            default="auto",
            help="windows fetched at once, or 'auto' (the default: starts at 6, grows while the API answers, "
            "backs off on 429)",
        )


def _workers(value: str) -> int | str:
    """``--workers``: a count, or ``auto``."""
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of workers or 'auto'") from None


def output_option(parser: argparse.ArgumentParser, suffixes: Sequence[str], default: str | None = None) -> None:
    """Add ``-o``/``--output``, whose suffix picks the format among ``suffixes``."""
    kinds = ", ".join(suffixes)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path(default) if default else None,
        help=f"the file to write, its format by its suffix ({kinds}); folders are created"
        + (f" (default {default})" if default else ""),
    )


def client_from(args: argparse.Namespace, provider: Provider | str | None = None) -> Client:
    """The client that the data options (:func:`data_options`) of a subcommand ask for, of one provider.

    Args:
        args: The parsed options.
        provider: The provider (default: ``--provider``, else the first).
    """
    chosen = Client.resolve(provider if provider is not None else getattr(args, "provider", None) or "")
    options: dict[str, Any] = {k: getattr(args, k) for k in ("workers", "offline") if hasattr(args, k)}
    if args.sample:
        return Client.sample(provider=chosen)
    if args.fake:
        return Client.fake(provider=chosen, **options)
    return Client(base_url=args.base_url, provider=chosen, cache=not getattr(args, "no_cache", False), **options)


def clients_from(args: argparse.Namespace, *, keyed: bool = False) -> list[Client]:
    """The clients of ``--provider``: one provider, or with ``all`` every one (with ``keyed``, also by default).

    Live, ``all`` means every provider whose key variable is set; with ``--fake`` or ``--sample``, every provider.

    Raises:
        MissingAPIKeyError: Live, when no provider's key is set (naming every variable).
    """
    asked = getattr(args, "provider", None)
    if asked not in (None, "all") or (asked is None and not keyed):
        return [client_from(args, asked)]
    if args.fake or args.sample:
        return [client_from(args, p) for p in PROVIDERS.values()]
    keyed_providers = [p for p in PROVIDERS.values() if os.environ.get(p.credentials.env)]
    if not keyed_providers:
        if asked is None and args.base_url:
            return [client_from(args)]  # one API root: the first provider's, and its own error
        who = "--provider all" if asked == "all" else args.command
        raise MissingAPIKeyError(f"No admin key: {who} reads every provider whose key is set: {KEYS_HELP}")
    return [client_from(args, p) for p in keyed_providers]


def endpoint_provider(args: argparse.Namespace) -> Provider:
    """The provider of a subcommand's ``endpoint``: ``--provider``, else the only one that has it, else the first."""
    if getattr(args, "provider", None):
        return Client.resolve(args.provider)
    having = [p for p in PROVIDERS.values() if args.endpoint in p.endpoints]
    return having[0] if len(having) == 1 else DEFAULT


def output_path(path: Path, suffixes: Sequence[str]) -> Path:
    """Check an output file's suffix before anything is fetched; Parquet also needs pyarrow.

    Examples:
        >>> output_path(Path("out.xlsx"), TABLE_SUFFIXES)
        Traceback (most recent call last):
        ...
        usage_frames.cli.options.CommandLineError: -o out.xlsx: unknown suffix '.xlsx'; allowed: .csv, .parquet, .json
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


def remove_empty_folders(root: Path) -> None:
    """Remove ``root`` and the folders below it that hold no file (never a file)."""
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()


def create_parent(path: Path) -> Path:
    """``path``, its missing folders created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --- fetch -----------------------------------------------------------------------------------------------
