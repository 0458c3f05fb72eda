"""The endpoint surface, assembled once: each row of the endpoint table as a function, on ``Client`` and on the package.

:func:`endpoint_function` is the one place that turns a row of the table into a callable (its name, and its docstring
from :func:`describe`), and :class:`EndpointFunction` its one signature. ``client.costs(...)`` is the client's
``fetch("costs", ...)`` (:class:`Endpoints` gives :class:`~usage_frames.client.Client` the twelve methods, ``fetch``
and ``plan``); ``uf.costs(...)`` (:mod:`usage_frames.default`) is the same for the default client, with ``client=``
picking another. :func:`query_of` is the one way their arguments become a :class:`~usage_frames.query.Query`.

Examples:
    >>> from usage_frames.client import Client
    >>> client = Client.fake()
    >>> client.costs.__name__, client.costs.__doc__ == describe("costs")
    ('costs', True)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Never, Protocol, TypeVar, overload

import pandas as pd
import requests

from usage_frames.endpoints import ENDPOINTS, BucketWidth, EndpointName
from usage_frames.plan import Plan, plan_query
from usage_frames.query import FilterValue, Query, TimeLike, build_query, windows
from usage_frames.transport.cache import cached_windows

ClientT = TypeVar("ClientT", contravariant=True)


class EndpointFunction(Protocol[ClientT]):
    """The signature of the twelve endpoint functions, generic in who may be passed as ``client=``.

    ``uf.costs`` and the others are ``EndpointFunction[Client]`` (``client=`` picks the client, the default is
    ``Client()``); ``client.costs`` and the others are ``EndpointFunction[Never]`` (the client is the one they are
    bound to).
    """

    def __call__(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        group_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        client: ClientT | None = None,
        **filters: FilterValue | None,
    ) -> pd.DataFrame:
        """Fetch one endpoint as a tidy frame."""
        ...


def describe(name: EndpointName, *, client: bool = False) -> str:
    """The docstring of an endpoint function, generated from the table.

    Args:
        name: The endpoint.
        client: Document the ``client=`` argument of the package-level function.

    Examples:
        >>> print(describe("vector_stores").splitlines()[0])
        Fetch /organization/usage/vector_stores as a tidy frame (one row per bucket and group).
    """
    ep = ENDPOINTS[name]
    return (
        f"Fetch {ep.path} as a tidy frame (one row per bucket and group).\n\n"
        "Args:\n"
        "    start: Inclusive start (datetime, date, Timestamp, ISO string or Unix seconds; naive is UTC).\n"
        "        Defaults to 30 days before end.\n"
        "    end: Exclusive end; defaults to now and is clamped to now.\n"
        f"    bucket_width: One of {', '.join(ep.bucket_widths)} (default 1d).\n"
        f"    group_by: Any of {', '.join(ep.group_by)}.\n"
        "    limit: Buckets per page; the default is the largest the API allows.\n"
        + ("    client: The client to use; defaults to Client().\n" if client else "")
        + f"    **filters: {', '.join(f.name for f in ep.filters)} (a str is a one-item list).\n\n"
        f"Returns:\n    Columns end_time, the group keys, then {', '.join(f.name for f in ep.fields)}.\n"
    )


def endpoint_function(name: EndpointName, fetch: Callable[..., Any], *, client: bool = False) -> EndpointFunction[Any]:
    """The function of one endpoint: ``fetch(name, start, end, **kwargs)``, named and documented after the table.

    Args:
        name: The endpoint.
        fetch: A ``fetch(endpoint, start, end, **kwargs)``: a client's :meth:`Endpoints.fetch`, or the package's
            :func:`usage_frames.default.fetch` (which also takes ``client=``).
        client: Whether the function takes ``client=`` (documented by :func:`describe`).

    Examples:
        >>> from usage_frames.client import Client
        >>> images = endpoint_function("images", Client.fake().fetch)
        >>> images("2026-10-01", "2026-10-02").columns.tolist()
        ['end_time', 'images', 'num_model_requests']
    """

    def fetch_endpoint(start: TimeLike | None = None, end: TimeLike | None = None, **kwargs: Any) -> pd.DataFrame:
        frame: pd.DataFrame = fetch(name, start, end, **kwargs)
        return frame

    fetch_endpoint.__name__ = fetch_endpoint.__qualname__ = name
    fetch_endpoint.__doc__ = describe(name, client=client)
    fetch_endpoint.__signature__ = _signature(client)  # type: ignore[attr-defined]  # what help() and IDEs show
    return fetch_endpoint


@cache
def _signature(client: bool) -> inspect.Signature:
    """The signature of :class:`EndpointFunction`, with ``client=`` (a ``Client``) or without it."""
    call = inspect.signature(EndpointFunction.__call__)
    params = [p for p in list(call.parameters.values())[1:] if client or p.name != "client"]
    return call.replace(parameters=[p.replace(annotation="Client | None") if p.name == "client" else p for p in params])


def query_of(
    endpoint: EndpointName | str,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    now: pd.Timestamp | None,
    bucket_width: BucketWidth | str = "1d",
    group_by: str | Sequence[str] | None = None,
    limit: int | None = None,
    **filters: FilterValue | None,
) -> Query:
    """The query of an endpoint function's arguments: the named options, and every other keyword a filter.

    Examples:
        >>> query_of("costs", "2026-10-01", "2026-10-03", now=None, project_ids="proj_chat").filters
        {'project_ids': ('proj_chat',)}
    """
    return build_query(endpoint, start, end, bucket_width=bucket_width, group_by=group_by, limit=limit,
                       filters=filters, now=now)  # fmt: skip


class _EndpointMethod:
    """A descriptor that makes ``client.<endpoint>(...)`` call ``client.fetch("<endpoint>", ...)``."""

    def __init__(self, name: EndpointName) -> None:
        self.name = name
        self.__doc__ = describe(name)

    @overload
    def __get__(self, client: None, owner: type[Endpoints]) -> _EndpointMethod: ...
    @overload
    def __get__(self, client: Endpoints, owner: type[Endpoints]) -> EndpointFunction[Never]: ...
    def __get__(self, client: Endpoints | None, owner: type[Endpoints]) -> _EndpointMethod | EndpointFunction[Never]:
        return self if client is None else endpoint_function(self.name, client.fetch)


class Endpoints:
    """The endpoint methods of a client: ``client.costs(...)`` and the others, ``fetch`` by name, ``plan``."""

    now: pd.Timestamp | None
    session: requests.Session
    base_url: str

    def frame(self, query: Query) -> pd.DataFrame:
        """Fetch a validated query as a tidy frame (the client's)."""
        raise NotImplementedError  # pragma: no cover - Client defines it

    def clock(self) -> pd.Timestamp:
        """The client's "now"."""
        raise NotImplementedError  # pragma: no cover - Client defines it

    def _headers(self) -> dict[str, str]:
        raise NotImplementedError  # pragma: no cover - Client defines it

    def fetch(
        self,
        endpoint: EndpointName | str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth | str = "1d",
        group_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        **filters: FilterValue | None,
    ) -> pd.DataFrame:
        """Fetch any endpoint by name as a tidy frame; the twelve endpoint methods call this.

        Args:
            endpoint: An endpoint name (see ``usage_frames.ENDPOINTS``).
            start: Inclusive start; defaults to 30 days before ``end``.
            end: Exclusive end; defaults to now, clamped to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            group_by: Group keys of that endpoint.
            limit: Buckets per page (default: the maximum).
            **filters: Filters of that endpoint by their spec names.

        Returns:
            The tidy frame of the public contract.

        Examples:
            >>> from usage_frames import Client
            >>> df = Client.fake().fetch("images", "2026-10-01", "2026-10-02", group_by=["size"])
            >>> list(df.columns)
            ['end_time', 'size', 'images', 'num_model_requests']
        """
        return self.frame(query_of(endpoint, start, end, bucket_width=bucket_width, group_by=group_by, limit=limit,
                                   now=self.now, **filters))  # fmt: skip

    def plan(
        self,
        endpoint: EndpointName | str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth | str = "1d",
        group_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        **filters: FilterValue | None,
    ) -> Plan:
        """Say what a fetch would cost (requests, cached windows, rows) without sending anything.

        Examples:
            >>> from usage_frames import Client
            >>> client = Client.fake(now=pd.Timestamp("2026-11-28", tz="UTC"))
            >>> print(client.plan("completions", "2025-11-01", "2026-11-01", bucket_width="1h",
            ...                   group_by=["project_id", "model"]))
            completions 2025-11-01 00:00 .. 2026-11-01 00:00 UTC at 1h by project_id, model:
              53 request(s) in 53 window(s), 0 already cached; 8,760 buckets, at most ~1,314,000 rows
              warning: ~1,314,000 rows expected at 1h over 365 days: bucket_width='1d' answers the same totals ...
              warning: start 2025-11-01 is more than a year back: the API refuses starts before 2025-11-28 ...
        """
        query = query_of(endpoint, start, end, bucket_width=bucket_width, group_by=group_by, limit=limit,
                         now=self.now, **filters)  # fmt: skip
        url = self.base_url + query.endpoint.path
        cached = cached_windows(self.session, url, windows(query), self._headers())
        return plan_query(query, cached, self.clock())

    completions = _EndpointMethod("completions")
    decisions = _EndpointMethod("decisions")
    embeddings = _EndpointMethod("embeddings")
    moderations = _EndpointMethod("moderations")
    images = _EndpointMethod("images")
    audio_speeches = _EndpointMethod("audio_speeches")
    audio_transcriptions = _EndpointMethod("audio_transcriptions")
    vector_stores = _EndpointMethod("vector_stores")
    code_interpreter_sessions = _EndpointMethod("code_interpreter_sessions")
    file_search_calls = _EndpointMethod("file_search_calls")
    web_search_calls = _EndpointMethod("web_search_calls")
    costs = _EndpointMethod("costs")
