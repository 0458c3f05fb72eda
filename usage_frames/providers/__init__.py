"""The providers: one folder of facts each, this registry of them, and the public :class:`Client`.

Adding a provider is a folder ``providers/NAME/`` whose package makes a
:class:`~usage_frames._core.provider.Provider` (its endpoint rows, wire format, credentials), declares its
endpoint methods (``Endpoints``) and functions, and gives its fake and sample (module ``fake`` with
``client_arguments``, module ``sample`` with its ``SAMPLE``); then one entry in :data:`PACKAGES` and its
``Endpoints`` among :class:`Client`'s bases.

Examples:
    >>> list(PROVIDERS), DEFAULT.name
    (['openai', 'anthropic'], 'openai')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from usage_frames._core.client import BaseClient
from usage_frames._core.errors import InvalidParameterError
from usage_frames._core.provider import Provider
from usage_frames.fake.reply import Organization
from usage_frames.providers import anthropic, openai

PACKAGES: Mapping[str, ModuleType] = {"openai": openai, "anthropic": anthropic}
"""Each provider's package by name: its ``PROVIDER``, endpoint functions, fake and sample."""
PROVIDERS: Mapping[str, Provider] = {name: package.PROVIDER for name, package in PACKAGES.items()}
DEFAULT: Provider = next(iter(PROVIDERS.values()))
"""The provider of a client made without ``provider=``."""


def fake_organization(provider: str | Provider = "", *args: Any, **kwargs: Any) -> Organization:
    """A provider's fake organization (the first provider's by default), to serve with :mod:`usage_frames.fake`.

    Examples:
        >>> fake_organization().provider is DEFAULT
        True
    """
    return PACKAGES[Client.resolve(provider).name].fake.FakeOrganization(*args, **kwargs)  # type: ignore[no-any-return]


class Client(openai.Endpoints, anthropic.Endpoints, BaseClient):
    """A connection to the usage and cost reports of one organization (its options: ``BaseClient``).

    ``Client()`` reads OpenAI (its key from ``OPENAI_ADMIN_KEY``); ``Client(provider="anthropic")`` Anthropic
    (``ANTHROPIC_ADMIN_KEY``).
    Every endpoint of the client's provider is a method (``client.costs(...)``), ``fetch`` and ``plan`` take any
    of them by name.

    Examples:
        >>> Client.fake().provider.title
        'OpenAI'
    """

    providers = PROVIDERS

    @classmethod
    def fake(cls, *args: Any, provider: str | Provider = "", **kwargs: Any) -> Client:
        """A client answered in-process by the provider's fake organization (no key, no network, no cache).

        Args:
            *args: The fake organization (the provider's standard one on the client's clock when left out).
            provider: The provider (its name; the first when left out).
            **kwargs: Passed on to the client (``now=``, ``workers=``...).

        Examples:
            >>> Client.fake().costs("2026-10-01", "2026-10-02")["amount"].round(2).tolist()  # the fake's traffic
            [76.3]
        """
        chosen = cls.resolve(provider)
        return cls(provider=chosen, **PACKAGES[chosen.name].fake.client_arguments(*args, **kwargs))

    @classmethod
    def sample(cls, path: str | os.PathLike[str] | None = None, *, provider: str | Provider = "") -> Client:
        """A client answered offline from the provider's recorded sample data (clock fixed at its recording).

        Examples:
            >>> Client.sample().clock()
            Timestamp('2026-10-21 00:00:00+0000', tz='UTC')
        """
        chosen = cls.resolve(provider)
        if chosen.name not in PACKAGES:
            raise InvalidParameterError("provider", chosen.name, tuple(PACKAGES), reason="has no recorded sample")
        root = None if path is None else Path(path)
        return cls(provider=chosen, **PACKAGES[chosen.name].sample.SAMPLE.client_arguments(root))
