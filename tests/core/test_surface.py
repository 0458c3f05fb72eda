"""An endpoint is one row: each provider's functions and client methods are generated from its table, and the
typed declarations (the names type checkers see) are kept in step with it here."""

from __future__ import annotations

import inspect
from typing import get_args

import pytest

import usage_frames as uf
from usage_frames._core.surface import EndpointMethod
from usage_frames.providers import PACKAGES, PROVIDERS


@pytest.mark.parametrize("name", list(PACKAGES))
def test_surface__every_endpoint_of_a_provider_is_a_function_and_a_client_method(name):
    package, provider = PACKAGES[name], PROVIDERS[name]
    declared = {n for n, v in vars(package.Endpoints).items() if isinstance(v, EndpointMethod)}
    missing = [f"{e} = EndpointMethod(PROVIDER)" for e in provider.endpoints if e not in declared]
    assert not missing, f"add to {package.__name__}.Endpoints: {missing}"
    assert declared <= set(provider.endpoints), declared - set(provider.endpoints)
    functions = [f'{e} = provider_function(PROVIDER, "{e}")' for e in provider.endpoints
                 if getattr(getattr(package, e, None), "__name__", None) != e]  # fmt: skip
    assert not functions, f"add to {package.__name__}: {functions}"
    assert set(get_args(package.EndpointName)) == set(provider.endpoints)
    assert issubclass(uf.Client, package.Endpoints)  # the public client has every provider's methods


@pytest.mark.parametrize("name", list(PACKAGES))
def test_surface__functions_show_their_endpoints_own_filters(name):
    for endpoint in PROVIDERS[name].endpoints.values():
        parameters = inspect.signature(getattr(PACKAGES[name], endpoint.name)).parameters
        assert [p for p in endpoint.filter_names if p not in parameters] == []
        assert "client" in parameters


def test_surface__a_method_of_another_provider_says_whose_it_is():
    client = uf.Client.fake()
    with pytest.raises(AttributeError, match="not an endpoint of OpenAI"):
        client.messages  # noqa: B018 - the attribute access is the test
    assert not hasattr(client, "messages")
