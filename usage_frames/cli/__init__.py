"""The ``usage-frames`` command: one small function per subcommand, shared option helpers, one error policy.

Fit for scripts and cron: every error is one line on stderr, exit status 2 for bad input (arguments, no key, a
missing optional dependency), 1 for API failures and data the cache or the sample cannot give, never a traceback;
every warning of every subcommand is one ``usage-frames: warning: ...`` line on stderr (no file, line or source);
output folders are created as needed; ``-o`` decides the format by its suffix and refuses others. A provider's admin
key is read from its environment variable only: a key on the command line would land in shell history.

Adding a subcommand: write ``_add_NAME(commands)`` in :mod:`.data` or :mod:`.finops` (it builds its parser with
:func:`.options.subcommand` and the shared helpers such as :func:`.options.data_options`, and sets ``run=``)
and append it to :data:`SUBCOMMANDS`.

Examples:
    >>> main(["fetch", "costs", "--fake", "--start", "2026-10-01", "--end", "2026-10-03", "--group-by",
    ...       "project_id"])  # doctest: +ELLIPSIS
    costs 2026-10-01 00:00 .. 2026-10-03 00:00 UTC, 1d buckets, grouped by project_id: 8 rows
    ...
    0
"""

from __future__ import annotations

import argparse
import gc
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from usage_frames._core.client import __version__
from usage_frames._core.errors import (
    CacheMissError,
    InvalidParameterError,
    MissingAPIKeyError,
    UsageFramesError,
    UsageFramesWarning,
)
from usage_frames.cli.data import add_fetch, add_report, add_sample_data, add_serve_fake, add_sync
from usage_frames.cli.finops import add_allocate, add_check, add_export
from usage_frames.cli.options import KEYS_HELP, CommandLineError, Parser

# --- the command -----------------------------------------------------------------------------------------

SUBCOMMANDS: list[Callable[[Any], None]] = [add_fetch, add_sync, add_report, add_sample_data, add_serve_fake,
                                            add_export, add_allocate, add_check]  # fmt: skip


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``usage-frames``, one subparser per entry of :data:`SUBCOMMANDS`."""
    top = Parser(
        prog="usage-frames",
        description="Organization usage and cost reports as tidy tables. An admin key comes from "
        f"{KEYS_HELP}; --fake (the built-in fake organizations) or --sample (the embedded sample data) need none.",
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
    command = argv is None  # the command's own process: what the imports made (pandas...) lives until it exits
    if command:
        gc.freeze()  # so collections skip it (matplotlib's import and a report: a sixth of their time)
    try:
        return _run(parser().parse_args(argv))
    finally:
        if command:  # and what the command made is left to the exit, without one last full collection (0.25 s)
            gc.freeze()


def _run(args: argparse.Namespace) -> int:
    with warnings.catch_warnings():  # restores the filters and showwarning for whoever called main()
        warnings.showwarning = _warn
        warnings.simplefilter("default", UsageFramesWarning)  # shown, whatever -W says: they are for the user
        return _status(args)


def _warn(message: Warning | str, *_: object, **__: object) -> None:
    """Show a warning as one line on stderr: the message only, no file, line or source (``warnings.showwarning``)."""
    print(f"usage-frames: warning: {' '.join(str(message).split())}", file=sys.stderr, flush=True)


def _status(args: argparse.Namespace) -> int:
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
    # The command line reads keys from the environment only: a key's help says so, not how Python passes one.
    message = re.sub(r"pass it as Client\([^)]*\) or set the", "set the", message)
    print(f"usage-frames: error: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
