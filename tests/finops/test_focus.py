"""FOCUS export: the specification's own column lists (vendored in spec/focus-columns.json beside this file), the
fake's truth for amounts and list prices, and the FinOps Foundation's focus-validator run on a real file."""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

import usage_frames as uf
from usage_frames import ops
from usage_frames.finops import focus
from usage_frames.providers.openai.fake import PROJECT_NAMES, TOKEN_PRICES, FakeOrganization

SPEC = json.loads((Path(__file__).parent / "spec" / "focus-columns.json").read_text())
WINDOW = ("2026-09-29", "2026-10-03")  # crosses a month boundary: two billing periods
TYPES = {"String": "string", "Decimal": "Float64", "Date/Time": "datetime64"}
# The FinOps Foundation's validator lives in a venv of its own, since its pins (multimethod<1.11...) clash with ours:
# the first test that needs it builds it there (FOCUS_VALIDATOR names the bin/ of another one instead).
VALIDATOR_VENV = ROOT / ".venv" / "focus-validator"
VALIDATOR_REQUIREMENTS = ("focus-validator==1.0.0", "multimethod<1.11")


@pytest.fixture(scope="module")
def costs():
    return uf.Client.fake().costs(*WINDOW, group_by=["project_id", "line_item"])


@pytest.fixture(scope="module")
def projects():
    return uf.projects(uf.Client.fake())


@pytest.mark.parametrize("version", ["1.2", "1.0"])
def test_to_focus__meets_the_specs_column_requirements(costs, projects, version):
    spec = SPEC[version]["columns"]
    out = focus.to_focus(costs, version, billing_account_id="org-test", billing_account_name="Test", projects=projects)
    columns = list(out.columns)
    custom = [c for c in columns if c not in spec]
    assert [c for c in spec if spec[c]["feature_level"] == "Mandatory" and c not in columns] == []
    assert all(c.startswith("x_") for c in custom) and custom
    assert columns == [c for c in columns if c in spec] + custom  # FOCUS columns first, then the custom ones
    for name in (c for c in columns if c in spec):
        rule = spec[name]
        if rule["data_type"] in TYPES:
            assert str(out[name].dtype).startswith(TYPES[rule["data_type"]]), name
        if rule["data_type"] == "Date/Time":
            assert str(out[name].dt.tz) == "UTC", name
        if not rule["allows_nulls"]:
            assert out[name].notna().all(), name
        if "allowed_values" in rule:
            assert set(out[name].dropna()) <= set(rule["allowed_values"]), name
    # A usage charge with a quantity needs its unit and a unit price (the spec's conditional rules).
    for quantity, unit in (("PricingQuantity", "PricingUnit"), ("ConsumedQuantity", "ConsumedUnit")):
        assert (out[quantity].notna() == out[unit].notna()).all()
    assert out["PricingQuantity"].notna().all() and out["ListUnitPrice"].notna().all()


def test_to_focus__one_row_per_result_with_exact_amounts(costs):
    out = focus.to_focus(costs, billing_account_id="org-test")
    assert len(out) == len(costs)
    assert out["BilledCost"].tolist() == costs["amount"].tolist() == out["EffectiveCost"].tolist()
    truth = FakeOrganization().total("costs", "amount", *WINDOW)
    billed = sum(Decimal(str(float(v))) for v in out["BilledCost"])
    assert billed.quantize(Decimal("0.01")) == Decimal(str(truth)).quantize(Decimal("0.01"))
    assert out["ChargePeriodStart"].tolist() == list(costs.index)
    assert out["ChargePeriodEnd"].tolist() == costs["end_time"].tolist()
    september = out["ChargePeriodStart"] < pd.Timestamp("2026-10-01", tz="UTC")
    assert set(out.loc[september, "BillingPeriodStart"]) == {pd.Timestamp("2026-09-01", tz="UTC")}
    assert set(out.loc[~september, "BillingPeriodEnd"]) == {pd.Timestamp("2026-11-01", tz="UTC")}
    assert set(out["BillingCurrency"]) == {"USD"}


def test_to_focus__string_amounts_are_kept_exactly():
    costs = uf.Client.fake(FakeOrganization(amount_as_string=True)).costs(*WINDOW, group_by="line_item")
    out = focus.to_focus(costs, billing_account_id="org-test")
    numbers = uf.Client.fake().costs(*WINDOW, group_by="line_item")
    assert out["BilledCost"].tolist() == numbers["amount"].tolist()


def test_to_focus__list_cost_from_the_price_table_contracted_cost_from_the_bill(costs):
    out = focus.to_focus(costs, billing_account_id="org-test")
    batch = out[out["ChargeDescription"] == "batch | gpt-4o-mini-2024-07-18, input"]
    list_price = TOKEN_PRICES["gpt-4o-mini-2024-07-18"][0] / 1e6  # the fake's list price, per token
    assert batch["ListUnitPrice"].tolist() == pytest.approx([list_price] * len(batch), rel=1e-9)
    assert batch["ListCost"].tolist() == pytest.approx((batch["PricingQuantity"] * list_price).tolist(), rel=1e-9)
    assert (batch["ListCost"] > batch["BilledCost"]).all()  # Batch is discounted against the list price
    assert out["ContractedCost"].tolist() == pytest.approx(out["BilledCost"].tolist(), rel=1e-9, abs=1e-12)
    product = out["ContractedUnitPrice"] * out["PricingQuantity"]
    assert product.tolist() == pytest.approx(out["ContractedCost"].tolist(), rel=1e-9, abs=1e-12)


def test_to_focus__sub_accounts_and_parsed_line_items(costs, projects):
    out = focus.to_focus(costs, billing_account_id="org-test", projects=projects)
    assert out["SubAccountId"].tolist() == costs["project_id"].astype(object).tolist()
    names = out.dropna(subset="SubAccountId").drop_duplicates("SubAccountId")
    assert dict(zip(names["SubAccountId"], names["SubAccountName"], strict=True)) == PROJECT_NAMES
    parsed = ops.split_line_items(costs)
    assert out["x_Model"].tolist() == parsed["model"].astype(object).tolist()
    row = out[out["ChargeDescription"] == "priority | gpt-4o-2024-08-06, output"].iloc[0]
    assert (row["x_Model"], row["x_TokenKind"], row["x_Tier"], row["PricingUnit"]) == (
        "gpt-4o-2024-08-06", "output", "priority", "Tokens")  # fmt: skip


def test_to_focus__accessor_is_the_function(costs):
    pd.testing.assert_frame_equal(
        costs.usage.to_focus(billing_account_id="org-test"), focus.to_focus(costs, billing_account_id="org-test")
    )


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"version": "2.0"}, "version"), ({"billing_account_id": None}, "billing_account_id")],
)
def test_to_focus__bad_arguments_name_themselves(costs, kwargs, argument):
    with pytest.raises(uf.InvalidParameterError, match=argument):
        focus.to_focus(costs, **{"billing_account_id": "org-test", **kwargs})


def test_to_focus__costs_without_line_items_are_refused():
    by_project = uf.Client.fake().costs(*WINDOW, group_by="project_id")
    with pytest.raises(uf.InvalidParameterError, match="line_item"):
        focus.to_focus(by_project, billing_account_id="org-test")


def test_write__parquet_round_trips(costs, tmp_path):
    out = focus.to_focus(costs, billing_account_id="org-test")
    back = pd.read_parquet(focus.write(out, tmp_path / "focus.parquet"))
    assert back["BilledCost"].tolist() == out["BilledCost"].tolist()
    assert back["ChargePeriodStart"].tolist() == out["ChargePeriodStart"].tolist()


@functools.cache
def validator() -> Path:
    """The ``bin/`` of a venv with :data:`VALIDATOR_REQUIREMENTS`: ``FOCUS_VALIDATOR``, else ``.venv/focus-validator``.

    That venv is reused while it works (the validator imports, at the pinned version), else made again: ``python -m
    venv`` and ``pip install`` of the pinned requirements (the package index is the one network the suite uses).
    A lock file next to it makes a second pytest process wait for the first one's build, then reuse it.
    """
    if os.environ.get("FOCUS_VALIDATOR"):
        return Path(os.environ["FOCUS_VALIDATOR"])
    VALIDATOR_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VALIDATOR_VENV.with_name(VALIDATOR_VENV.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process ends
        if not _validator_works(VALIDATOR_VENV / "bin"):
            _build_validator(VALIDATOR_VENV)
    return VALIDATOR_VENV / "bin"


def _validator_works(bin_: Path) -> bool:
    version = VALIDATOR_REQUIREMENTS[0].split("==")[1]
    if not (bin_ / "focus-validator").exists():
        return False
    code = "import importlib.metadata as m, focus_validator; print(m.version('focus-validator'))"
    found = subprocess.run([bin_ / "python", "-c", code], capture_output=True, text=True, timeout=120)
    return found.returncode == 0 and found.stdout.strip() == version


def _build_validator(venv: Path) -> None:
    """Make the validator's venv at ``venv`` (what was there, broken, is removed; a link is only unlinked)."""
    if venv.is_symlink():
        venv.unlink()
    elif venv.exists():
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=300)
    pip = subprocess.run([venv / "bin" / "pip", "install", "-q", *VALIDATOR_REQUIREMENTS], capture_output=True,
                         text=True, timeout=1200)  # fmt: skip
    if pip.returncode != 0:
        pytest.fail(f"could not install {' '.join(VALIDATOR_REQUIREMENTS)} into {venv}: {pip.stderr[-2000:]}")


def validate(path: Path, tmp_path: Path) -> list[str]:
    """Run focus-validator 1.0.0 on a CSV by subprocess; returns the names of the failed rules.

    Its quirks, worked around here and not in the export: it reads its currency list by the relative path
    ``focus_validator/utils/currency_codes.csv``, so it runs from its package folder; and its "1.0" rule set still
    requires the pre-1.0 column names ``Provider``, ``Publisher``, ``InvoiceIssuer``, ``ResourceID`` and queries
    ``ChargeType`` (for SkuPriceId). A copy of the file gets those five columns as aliases of the 1.0 columns
    ``ProviderName``, ``PublisherName``, ``InvoiceIssuerName``, ``ResourceId`` and ``ChargeCategory``, so that the
    old rules check the same values.
    """
    python, tool = validator() / "python", validator() / "focus-validator"
    assert tool.exists(), f"no focus-validator at {tool} (FOCUS_VALIDATOR names the bin/ of a venv that has it)"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    aliases = {"Provider": "ProviderName", "Publisher": "PublisherName", "InvoiceIssuer": "InvoiceIssuerName",
               "ResourceID": "ResourceId", "ChargeType": "ChargeCategory"}  # fmt: skip
    for old, new in aliases.items():
        table[old] = table[new]
    copy = tmp_path / f"{path.stem}-for-validator.csv"
    table.to_csv(copy, index=False)
    where = subprocess.run(
        [python, "-c", "import focus_validator, pathlib; print(pathlib.Path(focus_validator.__file__).parent.parent)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    report = tmp_path / "report.xml"
    run = subprocess.run(
        [tool, "--data-file", copy, "--validate-version", "1.0", "--output-type", "unittest",
         "--output-destination", report],
        cwd=where, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    suites = ET.parse(report).getroot()
    assert int(suites.get("tests", "0")) > 100  # the whole 1.0 rule set ran
    return [case.get("name", "") for case in suites.iter("testcase") if case.find("failure") is not None]


def test_to_focus__1_0_passes_the_finops_foundations_validator(costs, projects, tmp_path):
    out = focus.to_focus(costs, "1.0", billing_account_id="org-test", billing_account_name="Test", projects=projects)
    assert validate(focus.write(out, tmp_path / "focus.csv"), tmp_path) == []
    # The validator is real: a value outside the allowed list fails its rule.
    broken = out.assign(ServiceCategory="Artificial Intelligence")
    failed = validate(focus.write(broken, tmp_path / "broken.csv"), tmp_path)
    assert any(name.startswith("ServiceCategory_Enum") for name in failed)
