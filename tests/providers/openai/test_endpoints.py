"""The endpoint table against the vendored official spec and, when installed, the official SDK's typed params.

If the API drifts (a new group key, filter, field or endpoint), one of these fails and names the difference.
"""

from __future__ import annotations

import inspect
import re
import typing

import pandas as pd
import pytest
from conftest import SPEC

import usage_frames as uf
from usage_frames._core.surface import describe
from usage_frames.providers.openai.endpoints import ENDPOINTS, USAGE_LIMITS, GroupKey

SPEC_ENDPOINTS = [e for e in ENDPOINTS.values() if e.source == "spec"]
# What only the newer SDK (openai 3.57, api-notes section 9) knows; everything else must match the spec exactly.
SDK_ONLY_KEYS = {"completions": {"api_source"}, "web_search_calls": {"api_source"}, "costs": {"user_id", "api_source"}}
SDK_ONLY_FILTERS = {"costs": {"line_items"}}
SDK_ONLY_FIELDS = {"completions": {"input_cache_write_30m_tokens", "input_cache_write_12h_tokens"}}


def spec_params(path: str) -> dict[str, dict[str, typing.Any]]:
    return {p["name"]: p for p in SPEC["paths"][path]["get"]["parameters"]}


def result_schema(endpoint: uf.Endpoint) -> dict[str, typing.Any]:
    for schema in SPEC["components"]["schemas"].values():
        if endpoint.result_object in schema.get("properties", {}).get("object", {}).get("enum", []):
            return schema
    raise AssertionError(f"no result schema for {endpoint.result_object}")


def test_table__has_the_twelve_endpoints_of_the_contract():
    assert list(ENDPOINTS) == list(typing.get_args(uf.EndpointName))
    assert len(ENDPOINTS) == 12
    assert {e.path for e in SPEC_ENDPOINTS} == set(SPEC["paths"])


def test_table__group_key_literal_is_the_union_of_all_keys():
    assert set(typing.get_args(GroupKey)) == {k for e in ENDPOINTS.values() for k in e.group_by}


def test_package__has_one_function_per_endpoint_and_on_client():
    for name in ENDPOINTS:
        assert callable(getattr(uf, name)), name
        assert getattr(uf, name).__name__ == name
        assert name in uf.__all__
        assert ENDPOINTS[name].path in getattr(uf.Client, name).__doc__



def test_surface__package_function_is_the_clients_method_with_client_picking_the_client():
    client = uf.Client.fake()
    for name in ENDPOINTS:
        package, method = getattr(uf, name), getattr(client, name)
        assert package.__doc__ == describe(ENDPOINTS[name], client=True), name
        assert method.__doc__ == describe(ENDPOINTS[name]), name
        kwargs = {"group_by": ENDPOINTS[name].group_by[:1]} if ENDPOINTS[name].group_by else {}
        expected = client.fetch(name, "2026-10-01", "2026-10-03", **kwargs)
        pd.testing.assert_frame_equal(package("2026-10-01", "2026-10-03", client=client, **kwargs), expected)
        pd.testing.assert_frame_equal(method("2026-10-01", "2026-10-03", **kwargs), expected)


def test_surface__signatures_show_the_options_and_client_only_on_the_package():
    options = ["start", "end", "bucket_width", "group_by", "limit"]
    filters = list(ENDPOINTS["costs"].filter_names)  # the endpoint's own filters, by name (help() and IDEs)
    assert list(inspect.signature(uf.costs).parameters) == [*options, *filters, "client"]
    assert list(inspect.signature(uf.Client.fake().costs).parameters) == [*options, *filters]

def test_surface__a_bound_method_refuses_client_as_an_unknown_filter():
    with pytest.raises(uf.InvalidParameterError, match="client"):
        uf.Client.fake().costs("2026-10-01", "2026-10-03", client=uf.Client.fake())

@pytest.mark.parametrize("endpoint", SPEC_ENDPOINTS, ids=lambda e: e.name)
def test_table__matches_spec_parameters(endpoint: uf.Endpoint):
    params = spec_params(endpoint.path)
    assert params["start_time"]["required"] is True
    widths = params["bucket_width"]["schema"]["enum"]
    assert list(endpoint.bucket_widths) == sorted(widths, key=["1m", "1h", "1d"].index)
    spec_keys = set(params["group_by"]["schema"]["items"]["enum"])
    assert set(endpoint.group_by) - SDK_ONLY_KEYS.get(endpoint.name, set()) == spec_keys
    spec_filters = set(params) - {"start_time", "end_time", "bucket_width", "group_by", "limit", "page"}
    assert set(endpoint.filter_names) - SDK_ONLY_FILTERS.get(endpoint.name, set()) == spec_filters
    for flt in endpoint.filters:
        if flt.name not in params:
            continue
        schema = params[flt.name]["schema"]
        if flt.kind == "bool":
            assert schema["type"] == "boolean"
        else:
            assert schema["type"] == "array"
            assert flt.choices == (tuple(schema["items"]["enum"]) if "enum" in schema["items"] else None)


@pytest.mark.parametrize("endpoint", SPEC_ENDPOINTS, ids=lambda e: e.name)
def test_table__limits_match_spec_description(endpoint: uf.Endpoint):
    limit = spec_params(endpoint.path)["limit"]
    text = limit["description"]
    if endpoint.name == "costs":
        assert limit["schema"]["default"] == endpoint.limits["1d"].default
        assert re.search(r"between 1 and (\d+)", text).group(1) == str(endpoint.limits["1d"].max)
        return
    assert endpoint.limits == USAGE_LIMITS
    for width, lim in endpoint.limits.items():
        assert f"`bucket_width={width}`: default: {lim.default}, max: {lim.max}" in text


@pytest.mark.parametrize("endpoint", SPEC_ENDPOINTS, ids=lambda e: e.name)
def test_table__result_fields_match_spec_schema(endpoint: uf.Endpoint):
    schema = result_schema(endpoint)
    properties = set(schema["properties"]) - {"object"}
    ours = {f.json_path[0] for f in endpoint.fields} | set(endpoint.group_by)
    extra = SDK_ONLY_KEYS.get(endpoint.name, set()) | SDK_ONLY_FIELDS.get(endpoint.name, set())
    assert ours - extra == properties
    for name in schema["required"]:
        assert name == "object" or name in ours


def test_table__level_metric_is_only_vector_store_bytes():
    levels = {(e.name, f.name) for e in ENDPOINTS.values() for f in e.fields if f.kind == "level"}
    assert levels == {("vector_stores", "usage_bytes")}
