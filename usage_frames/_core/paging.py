"""Pure: typed pages, the one pagination loop, and every completeness check.

Where is completeness guaranteed? Here. :func:`paginate` follows cursors of both styles (usage pages'
``next_page``, list endpoints' ``after``/``last_id``) and refuses a missing or repeated cursor instead of stopping
early or looping; :func:`check_page` refuses buckets out of order, overlapping or with a gap; :func:`check_coverage`
refuses an answer whose buckets do not tile the window asked. An incomplete answer is never passed off as complete.
The transport (:mod:`usage_frames._transport.send`) fetches each page; nothing here does I/O.

Examples:
    >>> book = {None: ({"data": [{"id": "a"}], "has_more": True, "last_id": "a"}, None),
    ...         "a": ({"data": [{"id": "b"}], "has_more": False, "last_id": "b"}, None)}
    >>> [o["id"] for page in paginate(book.__getitem__, ListCheck("/x")) for o in page["data"]]
    ['a', 'b']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import msgspec
import pandas as pd

from usage_frames._core.errors import UnexpectedResponseError
from usage_frames._core.pages import as_page, page_types
from usage_frames._core.query import Query
from usage_frames._core.schema import BUCKET_SECONDS, Endpoint, unix

P = TypeVar("P")
R = TypeVar("R")

CLOCK_SLACK = 300  # seconds the last bucket of a window that ends now may fall short (the server's clock)


class Bucket(Protocol):
    """One time bucket of a decoded page (a msgspec struct, see :func:`usage_frames._core.pages.page_types`)."""

    start_time: int
    end_time: int
    results: Sequence[Any]


class Page(Protocol):
    """A decoded usage or costs page."""

    data: list[Any]
    has_more: bool
    next_page: str | None


def paginate(
    fetch: Callable[[str | None], tuple[P, R]],
    check: Callable[[P], str | None],
    reject: Callable[[R, UnexpectedResponseError], Exception] | None = None,
) -> Iterator[P]:
    """The one pagination loop: fetch a page per cursor, check each before it is yielded, stop after the last.

    Args:
        fetch: Sends the request for a cursor (``None`` for the first page); returns the page and the response.
        check: Checks a page (raising :class:`UnexpectedResponseError`) and returns the next cursor or ``None``.
        reject: Turns a check's error into the error to raise, given the response (to drop it from the cache
            and name the request); by default the check's error is raised as it is.
    """
    cursor: str | None = None
    while True:
        page, response = fetch(cursor)
        try:
            cursor = check(page)
        except UnexpectedResponseError as exc:
            if reject is None:
                raise
            raise reject(response, exc) from None
        yield page
        if cursor is None:
            return


def next_cursor(cursor: object, seen: set[str], name: str = "next_page") -> str:
    """The cursor of a page that says ``has_more``; a missing or repeated one is an error, not a loop.

    Examples:
        >>> next_cursor("page_2", set())
        'page_2'
        >>> next_cursor(None, set())
        Traceback (most recent call last):
        ...
        usage_frames.UnexpectedResponseError: has_more is true but next_page is None; the answer would be \
incomplete
    """
    if not isinstance(cursor, str) or not cursor:
        raise UnexpectedResponseError(f"has_more is true but {name} is {cursor!r}; the answer would be incomplete")
    if cursor in seen:
        raise UnexpectedResponseError(f"the server repeated the cursor {cursor!r}; stopping instead of looping")
    seen.add(cursor)
    return cursor


class WindowCheck:
    """The checks of one window's usage or costs pages: each page's buckets, the cursors, and the coverage at the end.

    A page without buckets that says ``has_more`` is followed (costs pages can be empty and carry a cursor).

    Args:
        query: The window asked.
        now: The client's clock; a window that ends within :data:`CLOCK_SLACK` of it may end that much short (an
            aligned endpoint's, by its open bucket: an API that drops partial buckets may not answer it yet).
        objects: The result tags of the provider's endpoints (:attr:`Provider.result_objects`), to name another
            endpoint's results.
    """

    def __init__(self, query: Query, now: pd.Timestamp, objects: Mapping[str, str] | None = None) -> None:
        self.query = query
        self.objects = objects or {}
        self.slack = 0
        if query.end + pd.Timedelta(seconds=CLOCK_SLACK) >= now:  # the window that contains now
            self.slack = CLOCK_SLACK
            if query.endpoint.align:  # its open bucket may not be answered yet: it holds nothing settled
                step = pd.Timedelta(seconds=BUCKET_SECONDS[query.bucket_width])
                self.slack = max(CLOCK_SLACK, int((query.end - query.end.floor(step)).total_seconds()))
        self.seen: set[str] = set()
        self.after: int | None = None
        self.first: tuple[int, int] | None = None

    def __call__(self, page: Any) -> str | None:
        """Check one page; the next cursor, or ``None`` once the whole window is covered."""
        self.after = check_page(page, self.query.endpoint, self.after, self.objects)
        if self.first is None and page.data:
            self.first = (page.data[0].start_time, page.data[0].end_time)
        if page.has_more:
            return next_cursor(page.next_page, self.seen)
        check_coverage(self.first, self.after, self.query, slack=self.slack)
        return None


class ListCheck:
    """The checks of a list endpoint's pages (projects, workspaces...): a ``data`` list of objects, ``last_id``.

    Args:
        path: The path, for messages.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: set[str] = set()

    def __call__(self, page: Any) -> str | None:
        """Check one page; the ``after`` cursor of the next, or ``None`` after the last."""
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise UnexpectedResponseError("not a list")
        if not all(isinstance(o, dict) for o in page["data"]):
            raise UnexpectedResponseError("a list item is not an object")
        if page.get("has_more") is not True:
            return None
        after = page.get("last_id")
        if not isinstance(after, str) or not after or after in self.seen:
            raise UnexpectedResponseError(f"has_more without a new last_id ({after!r})")
        self.seen.add(after)
        return after


def list_objects(
    get: Callable[[Sequence[tuple[str, str]]], tuple[Any, R]],
    path: str,
    reject: Callable[[R, UnexpectedResponseError], Exception] | None = None,
    *,
    after: str = "after",
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Every object of a list endpoint: full pages following the ``last_id`` cursor, each checked by :class:`ListCheck`.

    Args:
        get: Sends a GET of ``path`` with these query parameters; returns the decoded page and the response.
        path: The list endpoint, for messages.
        reject: As for :func:`paginate`.
        after: The query parameter of the cursor (the provider's :attr:`~usage_frames._core.schema.Wire.list_after`).
        limit: Objects per page.

    Examples:
        >>> pages = {(): ({"data": [{"id": "a"}], "has_more": True, "last_id": "a"}, None),
        ...          (("after", "a"),): ({"data": [{"id": "b"}], "has_more": False}, None)}
        >>> [o["id"] for o in list_objects(lambda params: pages[tuple(params[1:])], "/x")]
        ['a', 'b']
    """

    def fetch(cursor: str | None) -> tuple[Any, R]:
        return get([("limit", str(limit))] + ([(after, cursor)] if cursor else []))

    return [o for page in paginate(fetch, ListCheck(path), reject) for o in page["data"]]


def trim(pages: list[Any], window: Query) -> list[Any]:
    """Drop buckets that start at or after the window's end (a server that ignores ``end_time`` answers past it).

    Those buckets belong to the next window. Pages are changed in place and returned.
    """
    end = unix(window.end)
    for page in pages:
        if page.data and page.data[-1].start_time >= end:
            page.data = [bucket for bucket in page.data if bucket.start_time < end]
    return pages


def check_page(
    page: Any, endpoint: Endpoint, after: int | None = None, objects: Mapping[str, str] | None = None
) -> int | None:
    """Check that a decoded page is a usable page of this endpoint, before anything is kept.

    Args:
        page: The decoded page (struct, or a dict as in the spec's examples).
        endpoint: The endpoint that was asked.
        after: The ``end_time`` of the last bucket of the previous page, if any.
        objects: The result tags of the provider's endpoints, to name another endpoint's results.

    Returns:
        The ``end_time`` of this page's last bucket (``after`` when the page has none), for the next call.

    Raises:
        UnexpectedResponseError: If buckets lack times, are out of order, overlap or leave a gap (the API sends
            empty buckets, so a gap is a lost bucket), or the results belong to another endpoint. The message
            names the problem (and the missing span); the client adds the request id.

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> costs = DEFAULT.endpoint("costs")
        >>> check_page({"object": "page", "data": [], "has_more": False, "next_page": None}, costs)
        >>> check_page({"error": "nope"}, costs)
        Traceback (most recent call last):
        ...
        usage_frames.UnexpectedResponseError: the answer is not a page: no 'data' list
    """
    page = as_page(page, endpoint)
    if not isinstance(page.has_more, bool):
        raise UnexpectedResponseError("the answer is not a page: 'has_more' is not a boolean")
    strict = type(page) is page_types(endpoint)[0]
    objects = objects or {}
    for bucket in page.data:
        start, end, results = bucket.start_time, bucket.end_time, bucket.results
        if type(start) is not int or type(end) is not int:
            raise UnexpectedResponseError(f"a bucket lacks integer start_time/end_time: {msgspec.to_builtins(bucket)}")
        if end <= start:
            raise UnexpectedResponseError(f"a bucket ends before it starts: {start}..{end}")
        if after is not None and start < after:
            raise UnexpectedResponseError(
                f"buckets are out of order or overlap: one starts at {start}, before the previous end {after}"
            )
        if after is not None and start > after:  # the API sends empty buckets, so a gap is a lost bucket
            raise UnexpectedResponseError(f"the answer skips {span(after, start)}: no bucket covers it")
        after = end
        if strict:
            continue  # the strict decoder already refused results of another endpoint
        tags = {getattr(r, "object", None) for r in results} if results else set()
        # Unknown result types (a newer API) are read leniently; another endpoint's results are not ours.
        for obj in tags - {endpoint.result_object}:
            if isinstance(obj, str) and obj in objects:
                raise UnexpectedResponseError(
                    f"the answer holds {objects[obj]} results, not {endpoint.name}: "
                    "is the base URL or a proxy routing to the wrong path?"
                )
    return after


def span(start: int, end: int) -> str:
    """A time span in words, for messages.

    Examples:
        >>> span(1790812800, 1790899200)
        '2026-10-01 00:00:00..2026-10-02 00:00:00 UTC'
    """
    a, b = (pd.Timestamp(t, unit="s", tz="UTC") for t in (start, end))
    return f"{a:%Y-%m-%d %H:%M:%S}..{b:%Y-%m-%d %H:%M:%S} UTC"


def check_coverage(first: tuple[int, int] | None, last: int | None, query: Query, *, slack: int = 0) -> None:
    """Check that the buckets of a whole answer cover the query's window.

    :func:`check_page` has checked that the buckets follow each other without gaps; this checks the ends. The
    API sends empty buckets as ``results: []``, so the buckets of a window tile it. Edge buckets may be partial
    or wider (api-notes.md 7.6): usage starts at the unaligned request start, costs at the UTC midnight before
    it and end at the next one. So the first bucket must contain the window's start, and the last must end at
    or after the window's end, short by at most ``slack`` seconds (a server clock behind the client's, for a
    window that ends now).

    Args:
        first: ``(start_time, end_time)`` of the first bucket, ``None`` if there is none.
        last: ``end_time`` of the last bucket.
        query: The window that was asked.
        slack: Seconds the last bucket may end before the window.

    Raises:
        UnexpectedResponseError: Naming the span no bucket covers (an answer for another time window).

    Examples:
        >>> from usage_frames._core.query import build_query
        >>> from usage_frames.providers import DEFAULT
        >>> q = build_query(DEFAULT.endpoint("costs"), "2026-10-01", "2026-10-03",
        ...                 now=pd.Timestamp("2026-11-01", tz="UTC"))
        >>> check_coverage((1790812800, 1790899200), 1790985600, q)
        >>> check_coverage((1790812800, 1790899200), 1790899200, q)
        Traceback (most recent call last):
        ...
        usage_frames.UnexpectedResponseError: the answer ends early: no bucket covers 2026-10-02 \
00:00:00..2026-10-03 00:00:00 UTC
    """
    start, end = unix(query.start), unix(query.end)
    if first is None or last is None:
        raise UnexpectedResponseError(f"the answer has no buckets: nothing covers {span(start, end)}")
    if first[0] > start:
        raise UnexpectedResponseError(f"the answer starts late: no bucket covers {span(start, first[0])}")
    if first[1] <= start:
        raise UnexpectedResponseError(
            f"the answer is for another time window: it starts with {span(*first)}, before the asked {span(start, end)}"
        )
    if last < end - slack:
        raise UnexpectedResponseError(f"the answer ends early: no bucket covers {span(last, end)}")
