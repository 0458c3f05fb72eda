"""The endpoint table against the installed official ``openai`` SDK's typed parameters and result models.

The SDK is generated from a newer spec than the vendored one, so this is where new keys and endpoints show up
first. A dev-only check: skipped when the SDK is not installed.
"""

from __future__ import annotations

import importlib
import typing

import pytest

import usage_frames as uf
from usage_frames.providers.openai.endpoints import ENDPOINTS

openai_types = pytest.importorskip("openai.types.admin.organization", reason="openai SDK not installed")


def sdk_params(name: str) -> dict[str, typing.Any]:
    module = importlib.import_module(f"openai.types.admin.organization.usage_{name}_params")
    cls = next(v for k, v in vars(module).items() if k.endswith("Params") and k.startswith("Usage"))
    return typing.get_type_hints(cls, include_extras=True)


def literal_values(hint: typing.Any) -> set[str]:
    found: set[str] = set()
    for arg in typing.get_args(hint):
        if typing.get_origin(arg) is typing.Literal:
            found |= set(typing.get_args(arg))
        else:
            found |= literal_values(arg)
    if typing.get_origin(hint) is typing.Literal:
        found |= set(typing.get_args(hint))
    return found


@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=lambda e: e.name)
def test_table__matches_openai_sdk_typed_params(endpoint: uf.Endpoint):
    hints = sdk_params(endpoint.name)
    assert literal_values(hints["group_by"]) == set(endpoint.group_by)
    assert literal_values(hints["bucket_width"]) == set(endpoint.bucket_widths)
    sdk_filters = set(hints) - {"start_time", "end_time", "bucket_width", "group_by", "limit", "page"}
    assert sdk_filters == set(endpoint.filter_names)
    for flt in endpoint.filters:
        if flt.choices:
            assert literal_values(hints[flt.name]) == set(flt.choices)


@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=lambda e: e.name)
def test_table__matches_openai_sdk_result_fields(endpoint: uf.Endpoint):
    module = importlib.import_module(f"openai.types.admin.organization.usage_{endpoint.name}_response")
    models = [v for v in vars(module).values() if isinstance(v, type) and "object" in getattr(v, "model_fields", {})]
    model = next(m for m in models if endpoint.result_object in literal_values(m.model_fields["object"].annotation))
    sdk_fields = set(model.model_fields) - {"object"}
    ours = {f.json_path[0] for f in endpoint.fields} | set(endpoint.group_by)
    # quantity_unit is in the spec (2026-08-21) and in 3.57; older SDKs lack it.
    assert ours - sdk_fields <= {"quantity_unit"}
    assert sdk_fields <= ours
