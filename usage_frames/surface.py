"""The endpoint surface: one function per endpoint, generated from the table, on ``Client`` and on the package.

:class:`Endpoints` gives :class:`~usage_frames.client.Client` its twelve endpoint methods, ``fetch`` by name and
``plan``; they build the :class:`~usage_frames.query.Query` and hand it to the client's ``frame``. The package's
``uf.<endpoint>`` functions share :class:`EndpointFunction` and :func:`describe`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, overload

import pandas as pd
import requests

from usage_frames.endpoints import ENDPOINTS, BucketWidth, EndpointName
from usage_frames.plan import Plan, plan_query
from usage_frames.query import FilterValue, Query, TimeLike, build_query, windows
from usage_frames.transport.cache import cached_windows


class EndpointFunction(Protocol):
    """The signature shared by the twelve endpoint functions (``uf.completions``, ``Client.costs``, ...)."""

    def __call__(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        group_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        **filters: FilterValue | None,
    ) -> pd.DataFrame:
        """Fetch one endpoint as a tidy frame."""
        ...


def describe(name: EndpointName) -> str:
    """The docstring of an endpoint function, generated from the table.

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
        f"    **filters: {', '.join(f.name for f in ep.filters)} (a str is a one-item list).\n\n"
        f"Returns:\n    Columns end_time, the group keys, then {', '.join(f.name for f in ep.fields)}.\n"
    )


class _EndpointMethod:
    """A descriptor that makes ``client.<endpoint>(...)`` call ``client.fetch("<endpoint>", ...)``."""

    def __init__(self, name: EndpointName) -> None:
        self.name = name
        self.__doc__ = describe(name)

    @overload
    def __get__(self, client: None, owner: type[Endpoints]) -> _EndpointMethod: ...
    @overload
    def __get__(self, client: Endpoints, owner: type[Endpoints]) -> EndpointFunction: ...
    def __get__(self, client: Endpoints | None, owner: type[Endpoints]) -> _EndpointMethod | EndpointFunction:
        if client is None:
            return self
        name, bound = self.name, client

        def fetch_endpoint(start: TimeLike | None = None, end: TimeLike | None = None, **kwargs: Any) -> pd.DataFrame:
            return bound.fetch(name, start, end, **kwargs)

        fetch_endpoint.__name__ = fetch_endpoint.__qualname__ = name
        fetch_endpoint.__doc__ = self.__doc__
        return fetch_endpoint





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
        query = self._query(endpoint, start, end, bucket_width, group_by, limit, filters)
        return self.frame(query)

    def _query(
        self,
        endpoint: str,
        start: TimeLike | None,
        end: TimeLike | None,
        bucket_width: str,
        group_by: str | Sequence[str] | None,
        limit: int | None,
        filters: Mapping[str, FilterValue | None],
    ) -> Query:
        return build_query(endpoint, start, end, bucket_width=bucket_width, group_by=group_by, limit=limit,
                           filters=filters, now=self.now)  # fmt: skip


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
        query = self._query(endpoint, start, end, bucket_width, group_by, limit, filters)
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
