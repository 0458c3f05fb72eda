"""A provider: everything the core needs to know of one API, as data.

Each folder of :mod:`usage_frames.providers` makes one :class:`Provider`: its endpoint rows, how its requests and
answers are spelled, how it is authenticated and how far back it answers. The core takes a provider and never asks
which one it is (its offline stand-ins, the fake organization and the recorded sample, are the provider package's).

Examples:
    >>> from usage_frames._core.schema import Credentials, Endpoint, Limit
    >>> toy = Provider("toy", "Toy", {"calls": Endpoint("calls", "toy", "/calls", (), (), (), {"1d": Limit(7, 31)})},
    ...                Credentials("TOY_KEY", "X-Key", "https://toy.example", "TOY_URL"))
    >>> toy.endpoint("calls").path
    '/calls'
    >>> toy.endpoint("call")
    Traceback (most recent call last):
    ...
    usage_frames.InvalidParameterError: endpoint: 'call' is not allowed here; allowed: 'calls' (did you \
mean 'calls'?)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from usage_frames._core.errors import InvalidParameterError
from usage_frames._core.schema import Credentials, Endpoint, Wire


@dataclass(frozen=True)
class Bill:
    """How a provider's cost rows say what they bill.

    Attributes:
        key: The group key the cost frame needs for it (OpenAI's ``line_item``, Anthropic's ``description``).
        parts: Reads a cost frame grouped by ``key``: per row ``product`` (a tier or a product, ``None`` for list
            prices), ``model``, ``modality``, ``kind`` (``input``, ``cached input``, ``cache writes``, ``output``, or
            ``None``) and ``context`` (``long``), each ``None`` where the row does not say.
        skus: Reads a cost frame and its ``parts``: per row ``sku`` (what is sold, at any tier), ``price`` (what is
            sold at one price: its tier, its region), ``meter`` (what is counted) and ``tier``, each ``None`` where
            the row does not say (FOCUS ``SkuId``, ``SkuPriceId``, ``SkuMeter``). Without it, the key's text.
    """

    key: str
    parts: Callable[[pd.DataFrame], pd.DataFrame]
    skus: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame] | None = None


@dataclass(frozen=True)
class Provider:
    """One provider's facts.

    Attributes:
        name: Its name in ``Client(provider=...)``, ``attrs["provider"]`` and ``--provider``.
        title: Its name for people (FOCUS ``ProviderName``, messages).
        endpoints: Its endpoint rows by name, in the order functions and tables list them.
        credentials: How its admin key is found, checked and sent, and its API root.
        wire: How its requests and answers are spelled (every endpoint row carries the same).
        lookback: How far back the API answers (a start before ``now - lookback``, floored to the UTC day, is
            refused), or ``None``.
        lookback_code: The error code the API answers a start beyond the look-back with.
        lookback_help: What to do about it, appended to that error.
        bill: How its cost rows say what they bill (:class:`Bill`), if they do.
        primary: The endpoints a sync or a pipeline takes when none are named (its main usage and its bill).
        service: Its API's name as a service (FOCUS ``ServiceName``); ``"<title> API"`` when empty.
        cache_namespace: Tells its entries in a shared cache from other providers' (the credential header tells
            two keys of one provider apart). Empty for the first provider, so that existing caches and its recorded
            sample keep their keys.
    """

    name: str
    title: str
    endpoints: Mapping[str, Endpoint]
    credentials: Credentials
    wire: Wire = field(default_factory=Wire)
    lookback: pd.DateOffset | None = None
    lookback_code: str | None = None
    lookback_help: str = ""
    cache_namespace: str = ""
    bill: Bill | None = None
    primary: tuple[str, ...] = ()
    service: str = ""

    def endpoint(self, name: object) -> Endpoint:
        """The endpoint row called ``name``.

        Raises:
            InvalidParameterError: If there is none, listing the provider's endpoints.
        """
        if isinstance(name, str) and name in self.endpoints:
            return self.endpoints[name]
        if not isinstance(name, str):
            raise InvalidParameterError(
                "endpoint", name, tuple(self.endpoints), reason="must be one endpoint name (a str)"
            )
        raise InvalidParameterError("endpoint", name, tuple(self.endpoints))

    @property
    def result_objects(self) -> Mapping[str, str]:
        """The ``object`` tag of each endpoint's results, where results carry one, to its endpoint's name."""
        return {e.result_object: e.name for e in self.endpoints.values() if e.result_object}

    def earliest_start(self, now: pd.Timestamp) -> pd.Timestamp | None:
        """The earliest start the API accepts at ``now`` (the UTC day ``lookback`` back), or ``None``.

        Examples:
            >>> from usage_frames._core.schema import Credentials
            >>> p = Provider("x", "X", {}, Credentials("K", "H", "https://x", "U"), lookback=pd.DateOffset(years=1))
            >>> p.earliest_start(pd.Timestamp("2026-12-01 09:30", tz="UTC"))
            Timestamp('2025-12-01 00:00:00+0000', tz='UTC')
        """
        return None if self.lookback is None else pd.Timestamp(now - self.lookback).floor("D")
