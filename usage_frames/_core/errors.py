"""The exceptions: one base, argument errors, and one class per HTTP status family.

Users catch :class:`UsageFramesError` or one precise subclass. Every HTTP error carries the evidence a support
ticket needs (``status_code``, ``request_id``, the server's message and the parsed ``body``) and prints as one
line a human can act on. No message ever contains the admin key: errors are built from the response and the
request path only.

Examples:
    >>> err = RateLimitError("Rate limit reached", status_code=429, request_id="req_123")
    >>> str(err)
    '429 Too Many Requests: Rate limit reached (request_id: req_123)'
    >>> isinstance(InvalidParameterError("bucket_width", "2d", ("1m", "1h", "1d")), ValueError)
    True
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


class UsageFramesError(Exception):
    """The base of every error this package raises."""


class UsageFramesWarning(UserWarning):
    """Something was off in the data but nothing was lost (for example an unreadable ``amount.value``)."""


class InvalidParameterError(UsageFramesError, ValueError):
    """An argument is wrong; raised before any request is sent.

    Args:
        argument: The argument's name.
        value: What was passed.
        allowed: The allowed values, when there is a finite list.
        reason: A sentence that replaces the default "is not one of" explanation.

    Examples:
        >>> print(InvalidParameterError("group_by", "modle", ("project_id", "model")))
        group_by: 'modle' is not allowed here; allowed: 'project_id', 'model' (did you mean 'model'?)
    """

    def __init__(
        self,
        argument: str,
        value: object,
        allowed: Iterable[object] | None = None,
        reason: str | None = None,
    ) -> None:
        self.argument = argument
        self.value = value
        self.allowed = tuple(allowed) if allowed is not None else None
        message = f"{argument}: {_shown(value)} {reason or 'is not allowed here'}"
        if self.allowed is not None:
            message += "; allowed: " + (", ".join(repr(a) for a in self.allowed) or "none")
            guess = value if isinstance(value, str) and len(value) < 100 else ""
            close = difflib.get_close_matches(guess, [str(a) for a in self.allowed], n=1) if guess else []
            if close and close[0] != guess:
                message += f" (did you mean {close[0]!r}?)"
        super().__init__(message)


def _shown(value: object, width: int = 80) -> str:
    """``repr(value)``, cut to ``width`` characters (a hostile argument must not flood the message)."""
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real mistake
        text = f"<{type(value).__name__}>"
    return text if len(text) <= width else text[: width - 3] + "..."


class MissingAPIKeyError(UsageFramesError):
    """No admin key was passed and the provider's environment variable (``Credentials.env``) is not set."""


class APIError(UsageFramesError):
    """A request failed or its answer could not be used.

    Attributes:
        message: What went wrong, in the server's words where it gave any.
        request_id: The request id the server gave the response (its header, else its body), for the provider's
            support, or ``None``.
    """

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        self.message = message
        self.request_id = request_id
        super().__init__(message)

    def __str__(self) -> str:
        return self.message + (f" (request_id: {self.request_id})" if self.request_id else "")


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke, after every retry."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout, after every retry."""


class UnexpectedResponseError(APIError):
    """The server answered 200 but the answer is not a usable page (bad JSON, wrong shape, broken cursor)."""


class CacheError(UsageFramesError):
    """The HTTP cache folder can neither hold a cache nor be read as one (the message names the path and why)."""


class DatasetError(UsageFramesError):
    """A Parquet dataset cannot be synced: its state file is damaged, it cannot be written, or another sync holds it."""


class CacheMissError(UsageFramesError):
    """Offline mode (or the sample data) cannot answer a query.

    ``str(err)`` stays short (a few hundred characters): the endpoint, the first missing window, how many more, and
    what to do. The full list is :attr:`windows`. Code that asked for data the user did not name (a report reading
    the months before its period) says why with :meth:`because`, which keeps the rest of the message.

    Attributes:
        message: What is missing, without the hint or the reason.
        endpoint: The endpoint asked for, or ``None`` (no sample data at all, one request of the cache).
        windows: Every missing window, in order, as ``(start, end)`` pairs of UTC ``pandas.Timestamp``.
        hint: What to do about it (``""`` for nothing).
        reason: Why the data was needed, when the caller asked for it on the user's behalf (``""`` otherwise).
        where: Where the data was looked for: ``"the cache"``, or ``"the sample data"``.

    Examples:
        >>> import pandas as pd
        >>> days = pd.date_range("2026-07-01", periods=4, freq="MS", tz="UTC")
        >>> err = CacheMissError.missing("costs", list(zip(days[:-1], days[1:])), of=5, hint="fetch it online once")
        >>> print(err)
        costs: 2026-07-01 00:00..2026-08-01 00:00 UTC and 2 more windows (3 of 5) are not in the cache; fetch it
        online once
        >>> err.windows[-1]
        (Timestamp('2026-09-01 00:00:00+0000', tz='UTC'), Timestamp('2026-10-01 00:00:00+0000', tz='UTC'))
        >>> print(err.because("the forecast needs the 3 months before the period"))
        the forecast needs the 3 months before the period: costs: 2026-07-01 00:00..2026-08-01 00:00 UTC and 2 more
        windows (3 of 5) are not in the cache; fetch it online once
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]] = (),
        hint: str = "",
        reason: str = "",
        where: str = "the cache",
    ) -> None:
        self.message = message
        self.endpoint = endpoint
        self.windows = list(windows)
        self.hint = hint
        self.reason = reason
        self.where = where
        super().__init__(message)

    @classmethod
    def missing(
        cls,
        query: str,
        windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]],
        *,
        of: int,
        hint: str = "",
        where: str = "the cache",
        endpoint: str | None = None,
    ) -> CacheMissError:
        """The error for ``windows`` of a query of ``of`` windows that ``where`` cannot answer (at least one).

        Args:
            query: The query in words (``costs``, ``completions at 1h by user_id``).
            windows: The missing windows.
            of: How many windows the query has.
            hint: What to do about it.
            where: Where they were looked for.
            endpoint: The endpoint (default: the first word of ``query``).
        """
        ordered = sorted(windows)
        start, end = ordered[0]
        first = f"{query}: {start:%Y-%m-%d %H:%M}..{end:%Y-%m-%d %H:%M} UTC"
        more = len(ordered) - 1
        if more:
            message = f"{first} and {more} more window{'s' if more > 1 else ''} ({len(ordered)} of {of})"
            message += f" are not in {where}"
        else:
            message = f"{first} ({'the whole query' if of == 1 else f'1 of {of} windows'}) is not in {where}"
        name = query.split()[0] if endpoint is None else endpoint
        return cls(message, endpoint=name, windows=ordered, hint=hint, where=where)

    def because(self, reason: str) -> CacheMissError:
        """The same error with why the data was needed in front (``reason: message; hint``).

        Args:
            reason: Why, in the user's terms, e.g. ``"the forecast needs the 3 months before the period"``.
        """
        return CacheMissError(self.message, endpoint=self.endpoint, windows=self.windows, hint=self.hint,
                              reason=reason, where=self.where)  # fmt: skip

    def __str__(self) -> str:
        text = self.message + (f"; {self.hint}" if self.hint else "")
        return f"{self.reason}: {text}" if self.reason else text


class APIStatusError(APIError):
    """The server answered with an HTTP error status.

    Attributes:
        status_code: The HTTP status.
        body: The parsed JSON body, or the raw text when it was not JSON.
    """

    def __init__(self, message: str, *, status_code: int, request_id: str | None = None, body: Any = None) -> None:
        super().__init__(message, request_id=request_id)
        self.status_code = status_code
        self.body = body

    def __str__(self) -> str:
        try:
            phrase = HTTPStatus(self.status_code).phrase
        except ValueError:
            phrase = "HTTP error"
        return f"{self.status_code} {phrase}: {super().__str__()}"


class BadRequestError(APIStatusError):
    """400: the server refused the query (for example a group-by combination it does not support)."""


class AuthenticationError(APIStatusError):
    """401: the key is missing, wrong, or not an organization admin key."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not read usage (these endpoints need an organization admin key)."""


class NotFoundError(APIStatusError):
    """404: no such path under the base URL."""


class RateLimitError(APIStatusError):
    """429: too many requests, after every retry."""


class ServerError(APIStatusError):
    """5xx: the server failed, after every retry."""


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP status.

    Examples:
        >>> status_error_class(503).__name__
        'ServerError'
    """
    if status_code >= 500:
        return ServerError
    return STATUS_ERRORS.get(status_code, APIStatusError)


# Shown as ``usage_frames.X`` in tracebacks and reprs: users import them from the package, never from here.
for _exception in (
    UsageFramesError, UsageFramesWarning, InvalidParameterError, MissingAPIKeyError, APIError, APIConnectionError,
    APITimeoutError, UnexpectedResponseError, CacheError, DatasetError, CacheMissError, APIStatusError,
    BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, RateLimitError, ServerError,
):  # fmt: skip
    _exception.__module__ = "usage_frames"
del _exception
