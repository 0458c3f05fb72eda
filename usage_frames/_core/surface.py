"""The endpoint surface: each row of a provider's table as a function, on clients and in the provider's namespace.

:func:`endpoint_function` is the one place that turns a row into a callable (its name, its docstring from
:func:`describe`, its signature with the endpoint's own filters), and :class:`EndpointFunction` its one static type.
``client.costs(...)`` is the client's ``fetch("costs", ...)`` (:class:`EndpointMethod`, declared in each provider's
namespace); the package-level functions are the same for a default client, with ``client=`` picking another
(:mod:`usage_frames._core.default`). :func:`query_of` is the one way their arguments become a
:class:`~usage_frames._core.query.Query`.

Examples:
    >>> import usage_frames as uf
    >>> client = uf.Client.fake()
    >>> client.costs.__name__, client.costs.__doc__ == describe(client.provider.endpoint("costs"))
    ('costs', True)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Never, Protocol, TypeVar, overload

import pandas as pd

from usage_frames._core.plan import Plan, plan_query
from usage_frames._core.query import FilterValue, Query, TimeLike, build_query, windows
from usage_frames._core.schema import BucketWidth, Endpoint
from usage_frames._transport.cache import cached_windows

if TYPE_CHECKING:
    import requests

    from usage_frames._core.provider import Provider

ClientT = TypeVar("ClientT", contravariant=True)


class EndpointFunction(Protocol[ClientT]):
    """The signature of the endpoint functions, generic in who may be passed as ``client=``.

    The package-level functions (``uf.costs``) are ``EndpointFunction[Client]`` (``client=`` picks the client, the
    default is a client of their provider); methods (``client.costs``) are ``EndpointFunction[Never]`` (the client
    is the one they are bound to). At run time each function also shows its endpoint's own filters (``help()``).
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


def describe(endpoint: Endpoint, *, client: bool = False) -> str:
    """The docstring of an endpoint function, generated from its row.

    Args:
        endpoint: The endpoint's row.
        client: Document the ``client=`` argument of the package-level function.

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> print(describe(DEFAULT.endpoint("vector_stores")).splitlines()[0])
        Fetch /organization/usage/vector_stores as a tidy frame (one row per bucket and group).
    """
    ep = endpoint
    widths = ", ".join(ep.bucket_widths)
    default = "1d" if "1d" in ep.bucket_widths else ep.bucket_widths[0]
    return (
        f"Fetch {ep.path} as a tidy frame (one row per bucket and group).\n\n"
        "Args:\n"
        "    start: Inclusive start (datetime, date, Timestamp, ISO string or Unix seconds; naive is UTC).\n"
        "        Defaults to 30 days before end.\n"
        "    end: Exclusive end; defaults to now and is clamped to now.\n"
        f"    bucket_width: One of {widths} (default {default}).\n"
        f"    group_by: Any of {', '.join(ep.group_by)}.\n"
        "    limit: Buckets per page; the default is the largest the API allows.\n"
        + ("    client: The client to use; defaults to Client().\n" if client else "")
        + (f"    **filters: {', '.join(ep.filter_names)} (a str is a one-item list).\n" if ep.filters else "")
        + f"\nReturns:\n    Columns end_time, the group keys, then {', '.join(f.name for f in ep.fields)}.\n"
    )


def endpoint_function(endpoint: Endpoint, fetch: Callable[..., Any], *, client: bool = False) -> EndpointFunction[Any]:
    """The function of one endpoint: ``fetch(name, start, end, **kwargs)``, named and documented after its row.

    Args:
        endpoint: The endpoint's row.
        fetch: A ``fetch(endpoint, start, end, **kwargs)``: a client's :meth:`Endpoints.fetch`, or a provider's
            package-level fetch (which also takes ``client=``).
        client: Whether the function takes ``client=`` (documented by :func:`describe`).

    Examples:
        >>> import usage_frames as uf
        >>> images = endpoint_function(uf.Client.fake().provider.endpoint("images"), uf.Client.fake().fetch)
        >>> images("2026-10-01", "2026-10-02").columns.tolist()
        ['end_time', 'images', 'num_model_requests']
        >>> "sources" in inspect.signature(images).parameters  # the endpoint's own filters, for help() and IDEs
        True
    """
    name = endpoint.name

    def fetch_endpoint(start: TimeLike | None = None, end: TimeLike | None = None, **kwargs: Any) -> pd.DataFrame:
        frame: pd.DataFrame = fetch(name, start, end, **kwargs)
        return frame

    fetch_endpoint.__name__ = fetch_endpoint.__qualname__ = name
    fetch_endpoint.__doc__ = describe(endpoint, client=client)
    fetch_endpoint.__signature__ = _signature(endpoint, client)  # type: ignore[attr-defined]  # help() and IDEs
    return fetch_endpoint


def _signature(endpoint: Endpoint, client: bool) -> inspect.Signature:
    """The signature of :class:`EndpointFunction` with the endpoint's filters as keywords (and ``client=``)."""
    call = inspect.signature(EndpointFunction.__call__)
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [p for p in list(call.parameters.values())[1:] if p.kind != p.VAR_KEYWORD and p.name != "client"]
    params += [inspect.Parameter(f.name, keyword, default=None, annotation="FilterValue | None")
               for f in endpoint.filters]  # fmt: skip
    if client:
        params.append(inspect.Parameter("client", keyword, default=None, annotation="Client | None"))
    return call.replace(parameters=params)


def query_of(
    endpoint: Endpoint,
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
        >>> from usage_frames.providers import DEFAULT
        >>> query_of(DEFAULT.endpoint("costs"), "2026-10-01", "2026-10-03", now=None, project_ids="proj_chat").filters
        {'project_ids': ('proj_chat',)}
    """
    return build_query(endpoint, start, end, bucket_width=bucket_width, group_by=group_by, limit=limit,
                       filters=filters, now=now)  # fmt: skip


class EndpointMethod:
    """A descriptor that makes ``client.<endpoint>(...)`` call ``client.fetch("<endpoint>", ...)``.

    Each provider's namespace declares one per endpoint of its table (a test keeps them in step). A client whose
    provider has no such endpoint raises an ``AttributeError`` that says which provider has it.

    Args:
        provider: The provider whose endpoint it is (for its documentation).
    """

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.__doc__ = describe(self.provider.endpoint(name))

    @overload
    def __get__(self, client: None, owner: type) -> EndpointMethod: ...
    @overload
    def __get__(self, client: Endpoints, owner: type) -> EndpointFunction[Never]: ...
    def __get__(self, client: Endpoints | None, owner: type) -> EndpointMethod | EndpointFunction[Never]:
        if client is None:
            return self
        endpoint = client.provider.endpoints.get(self.name)
        if endpoint is None:
            raise AttributeError(
                f"{self.name} is not an endpoint of {client.provider.title}; its endpoints are "
                f"{', '.join(client.provider.endpoints)} (a client of another provider: Client(provider=...))"
            )
        return endpoint_function(endpoint, client.fetch)


class Endpoints:
    """What every client offers by endpoint name: ``fetch`` and ``plan``."""

    now: pd.Timestamp | None
    session: requests.Session
    base_url: str
    provider: Provider

    def frame(self, query: Query) -> pd.DataFrame:
        """Fetch a validated query as a tidy frame (the client's)."""
        raise NotImplementedError  # pragma: no cover - the client defines it

    def clock(self) -> pd.Timestamp:
        """The client's "now"."""
        raise NotImplementedError  # pragma: no cover - the client defines it

    def headers(self) -> dict[str, str]:
        """The headers of a request (the client's)."""
        raise NotImplementedError  # pragma: no cover - the client defines it

    def fetch(
        self,
        endpoint: str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth | str = "1d",
        group_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        **filters: FilterValue | None,
    ) -> pd.DataFrame:
        """Fetch any endpoint of the client's provider by name as a tidy frame; the endpoint methods call this.

        Args:
            endpoint: An endpoint name (``client.provider.endpoints``).
            start: Inclusive start; defaults to 30 days before ``end``.
            end: Exclusive end; defaults to now, clamped to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            group_by: Group keys of that endpoint.
            limit: Buckets per page (default: the maximum).
            **filters: Filters of that endpoint by their API names.

        Returns:
            The tidy frame of the public contract.

        Examples:
            >>> import usage_frames as uf
            >>> df = uf.Client.fake().fetch("images", "2026-10-01", "2026-10-02", group_by=["size"])
            >>> list(df.columns)
            ['end_time', 'size', 'images', 'num_model_requests']
        """
        return self.frame(query_of(self.provider.endpoint(endpoint), start, end, bucket_width=bucket_width,
                                   group_by=group_by, limit=limit, now=self.now, **filters))  # fmt: skip

    def plan(
        self,
        endpoint: str,
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
            >>> import usage_frames as uf
            >>> client = uf.Client.fake(now=pd.Timestamp("2026-11-28", tz="UTC"))
            >>> print(client.plan("completions", "2025-11-01", "2026-11-01", bucket_width="1h",
            ...                   group_by=["project_id", "model"]))
            completions 2025-11-01 00:00 .. 2026-11-01 00:00 UTC at 1h by project_id, model:
              53 request(s) in 53 window(s), 0 already cached; 8,760 buckets, at most ~1,314,000 rows
              warning: ~1,314,000 rows expected at 1h over 365 days: bucket_width='1d' answers the same totals ...
              warning: start 2025-11-01 is more than a year back: the API refuses starts before 2025-11-28 ...
        """
        query = query_of(self.provider.endpoint(endpoint), start, end, bucket_width=bucket_width, group_by=group_by,
                         limit=limit, now=self.now, **filters)  # fmt: skip
        url = self.base_url + query.endpoint.path
        cached = cached_windows(self.session, url, windows(query), self.headers())
        return plan_query(query, cached, self.clock(), self.provider)
