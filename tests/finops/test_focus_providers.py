"""FOCUS for any provider: Anthropic's cost report as FOCUS rows with its own names, amounts exactly the fake's
truth, the FinOps Foundation's validator on the file; several providers (a list, or the combined bill) in one table
with each provider's sums unchanged."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from conftest import NOW

import usage_frames as uf
from finops.test_focus import validate
from usage_frames.analysis.money import exact_total
from usage_frames.finops import focus
from usage_frames.providers import PACKAGES
from usage_frames.providers.anthropic.fake import DEFAULT_WORKSPACE_ID, WORKSPACE_NAMES, FakeOrganization
from usage_frames.providers.anthropic.fake.streams import BATCH, SONNET_45
from usage_frames.providers.openai.fake import FakeOrganization as OpenAIOrganization

SPEC = json.loads((Path(__file__).parent / "spec" / "focus-columns.json").read_text())
WINDOW = ("2026-09-29", "2026-10-03")  # crosses a month boundary: two billing periods
TYPES = {"String": "string", "Decimal": "Float64", "Date/Time": "datetime64"}
ACCOUNTS = {"openai": "org-test", "anthropic": "6d1c4a3e-8b2f-4f0e-9c57-2a9e1b7d4c10"}


@pytest.fixture(scope="module")
def client():
    return uf.Client.fake(provider="anthropic")


@pytest.fixture(scope="module")
def costs(client):
    return client.costs(*WINDOW, group_by=["workspace_id", "description"])


@pytest.fixture(scope="module")
def workspaces(client):
    return PACKAGES["anthropic"].names(client)["workspace_id"]


@pytest.fixture(scope="module")
def openai_costs():
    return uf.Client.fake().costs(*WINDOW, group_by=["project_id", "line_item"])


def truth(**where: object) -> Decimal:
    return FakeOrganization(now=NOW).total("costs", "amount", *WINDOW, **where)


@pytest.mark.parametrize("version", ["1.2", "1.0"])
def test_to_focus__anthropic_meets_the_specs_column_requirements(costs, workspaces, version):
    spec = SPEC[version]["columns"]
    out = focus.to_focus(costs, version, billing_account_id=ACCOUNTS["anthropic"], projects=workspaces)
    columns = list(out.columns)
    assert [c for c in columns if not c.startswith("x_")] == [c for c in spec if c in columns]
    assert [c for c in spec if spec[c]["feature_level"] == "Mandatory" and c not in columns] == []
    for name in (c for c in columns if c in spec):
        rule = spec[name]
        assert str(out[name].dtype).startswith(TYPES.get(rule["data_type"], "")), name
        if not rule["allows_nulls"]:
            assert out[name].notna().all(), name
        if "allowed_values" in rule:
            assert set(out[name].dropna()) <= set(rule["allowed_values"]), name
    # The cost report sends no quantity: no unit, no unit price, and the costs at list and contracted prices are
    # what was billed (nothing cheaper is known).
    for column in ("PricingQuantity", "PricingUnit", "ConsumedQuantity", "ListUnitPrice", "ContractedUnitPrice"):
        assert out[column].isna().all(), column
    assert out["ListCost"].tolist() == out["ContractedCost"].tolist() == out["BilledCost"].tolist()


def test_to_focus__anthropic_rows_carry_its_names_and_exact_amounts(costs, workspaces):
    out = focus.to_focus(costs, billing_account_id=ACCOUNTS["anthropic"], billing_account_name="Fake Organization",
                         projects=workspaces)  # fmt: skip
    assert len(out) == len(costs)
    assert set(out["ProviderName"]) == set(out["PublisherName"]) == set(out["InvoiceIssuerName"]) == {"Anthropic"}
    assert set(out["ServiceName"]) == {"Claude API"} and set(out["BillingAccountName"]) == {"Fake Organization"}
    assert exact_total(out["BilledCost"]) == truth() > 0  # every digit of the cents sent, divided by 100
    assert exact_total(out["EffectiveCost"]) == truth()
    for workspace in (BATCH, None):
        rows = out["SubAccountId"] == (workspace or "default")
        assert exact_total(out.loc[rows, "BilledCost"]) == truth(workspace_id=workspace) > 0
    named = out.drop_duplicates("SubAccountId").set_index("SubAccountId")["SubAccountName"].to_dict()
    listed = {"default" if w == DEFAULT_WORKSPACE_ID else w: n for w, n in WORKSPACE_NAMES.items()}
    assert named == {w: listed[w] for w in named} and named["default"] == "Default Workspace"
    assert set(out["SubAccountType"]) == {"Workspace"}
    september = out["ChargePeriodStart"] < pd.Timestamp("2026-10-01", tz="UTC")
    assert set(out.loc[september, "BillingPeriodStart"]) == {pd.Timestamp("2026-09-01", tz="UTC")}


def test_to_focus__anthropic_skus_come_from_the_description_fields(costs):
    out = focus.to_focus(costs, billing_account_id=ACCOUNTS["anthropic"])
    assert out["ChargeDescription"].tolist() == costs["description"].astype(object).tolist()
    batch = out[(out["x_ServiceTier"] == "batch") & (out["x_TokenType"] == "output_tokens")
                & (out["x_Model"] == SONNET_45)].iloc[0]  # fmt: skip
    assert batch["SkuId"] == f"{SONNET_45}, output_tokens, 0-200k"
    assert batch["SkuPriceId"] == f"{SONNET_45}, output_tokens, 0-200k, batch, not_available"
    assert (batch["SkuMeter"], batch["x_Tier"], batch["x_TokenKind"], batch["x_CostType"]) == (
        "output_tokens", "batch", "output", "tokens")  # fmt: skip
    search = out[out["x_CostType"] == "web_search"].iloc[0]
    assert (search["SkuId"], search["SkuPriceId"], search["SkuMeter"]) == ("web_search",) * 3
    assert pd.isna(search["x_Tier"]) and pd.isna(search["x_Model"])
    # The same model and token type at another tier is the same SKU at another price.
    same = out[(out["x_Model"] == SONNET_45) & (out["x_TokenType"] == "output_tokens")
               & (out["x_ContextWindow"] == "0-200k")]  # fmt: skip
    assert same["SkuId"].nunique() == 1 and same["SkuPriceId"].nunique() == 2


def test_to_focus__anthropic_costs_without_descriptions_are_refused(client):
    by_workspace = client.costs(*WINDOW, group_by="workspace_id")
    with pytest.raises(uf.InvalidParameterError, match=r"group_by=\['workspace_id', 'description'\]"):
        focus.to_focus(by_workspace, billing_account_id="x")
    with pytest.raises(uf.InvalidParameterError, match="billing_account_id"):
        focus.to_focus(client.costs(*WINDOW, group_by="description"))


def test_to_focus__anthropic_1_0_passes_the_finops_foundations_validator(costs, workspaces, tmp_path):
    out = focus.to_focus(costs, "1.0", billing_account_id=ACCOUNTS["anthropic"], billing_account_name="Fake",
                         projects=workspaces)  # fmt: skip
    assert validate(focus.write(out, tmp_path / "anthropic.csv"), tmp_path) == []


def test_to_focus__a_list_of_providers_is_one_table_with_each_providers_sums(costs, openai_costs, tmp_path):
    out = focus.to_focus([openai_costs, costs], "1.0", billing_account_id=ACCOUNTS)
    assert out["ProviderName"].tolist() == ["OpenAI"] * len(openai_costs) + ["Anthropic"] * len(costs)
    assert set(zip(out["ProviderName"], out["ServiceName"], out["BillingAccountId"], strict=True)) == {
        ("OpenAI", "OpenAI API", "org-test"), ("Anthropic", "Claude API", ACCOUNTS["anthropic"])}  # fmt: skip
    anthropic = out["ProviderName"] == "Anthropic"
    assert exact_total(out.loc[anthropic, "BilledCost"]) == truth()
    assert exact_total(out.loc[~anthropic, "BilledCost"]) == exact_total(openai_costs["amount"])
    openai_total = OpenAIOrganization(now=NOW).total("costs", "amount", *WINDOW)
    assert float(exact_total(out.loc[~anthropic, "BilledCost"])) == pytest.approx(openai_total, abs=1e-9)
    # Each provider's rows are its own export; x_ columns the other lacks are null.
    alone = focus.to_focus(openai_costs, "1.0", billing_account_id="org-test")
    pd.testing.assert_frame_equal(out.loc[~anthropic, list(alone.columns)].reset_index(drop=True), alone,
                                  check_like=False)  # fmt: skip
    assert out.loc[~anthropic, "x_TokenType"].isna().all()
    assert validate(focus.write(out, tmp_path / "both.csv"), tmp_path) == []


def test_to_focus__a_missing_account_names_its_provider(costs, openai_costs):
    with pytest.raises(uf.InvalidParameterError, match=r"billing_account_id.*\(Anthropic\)"):
        focus.to_focus([openai_costs, costs], billing_account_id={"openai": "org-test"})


def test_to_focus__the_combined_bill_has_each_rows_provider(client, tmp_path):
    openai, anthropic = uf.Client.fake(), client
    bill = uf.ops.combine(openai.costs(*WINDOW, group_by="project_id").usage.label(openai),
                          anthropic.costs(*WINDOW, group_by="workspace_id").usage.label(anthropic))  # fmt: skip
    out = focus.to_focus(bill, billing_account_id=ACCOUNTS)
    assert len(out) == len(bill)
    mine = out["ProviderName"] == "Anthropic"
    assert (bill["provider"] == "anthropic").tolist() == mine.tolist()
    assert exact_total(out.loc[mine, "BilledCost"]) == truth()
    assert set(out.loc[mine, "SubAccountType"]) == {"Workspace"}
    assert set(out.loc[~mine, "SubAccountType"]) == {"Project"}
    assert out.loc[mine & (out["SubAccountId"] == "default"), "SubAccountName"].unique().tolist() == [
        "Default Workspace"]  # fmt: skip
    assert set(out.loc[mine, "BillingAccountId"]) == {ACCOUNTS["anthropic"]}
    assert set(out.loc[mine, "SkuId"]) == {"Claude API"}  # the bill by workspace says no model: the whole service
    one_zero = focus.to_focus(bill, "1.0", billing_account_id=ACCOUNTS)
    assert validate(focus.write(one_zero, tmp_path / "combined.csv"), tmp_path) == []
