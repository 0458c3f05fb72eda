"""The bill as a FOCUS dataset: the FinOps Foundation's common schema for cost and usage data (FOCUS 1.2 or 1.0).

One FOCUS row per costs result. Costs must be grouped by ``line_item`` (FOCUS needs a quantity and a unit per
usage charge, and the API sends them only per line item); group by ``project_id`` too for ``SubAccountId``.

Prices, since the Costs API sends amounts and quantities but no price list:

- ``ContractedUnitPrice`` is the price the bill itself shows, ``amount / quantity`` of the line item over the
  exported window (:func:`usage_frames.ops.unit_prices`); ``ContractedCost`` is that price times the quantity.
- ``ListUnitPrice`` is the bill's price of the same model, token kind and unit *without* a tier or product prefix
  (``"gpt-4o, input"`` for ``"batch | gpt-4o, input"``): the list price OpenAI charged this organization. Where the
  bill has no such line item, nothing cheaper is known, so the line item's own price is used (``ListCost`` equals
  ``BilledCost``).

Every column of the version is written (conditional columns that do not apply are null); the parsed line item
(model, token kind, tier) and the group keys FOCUS has no column for are ``x_`` columns after them.

Examples:
    >>> from usage_frames import Client
    >>> costs = Client.fake().costs("2026-10-01", "2026-10-02", group_by=["project_id", "line_item"])
    >>> focus = to_focus(costs, billing_account_id="org-example")
    >>> focus.loc[0, ["ChargePeriodStart", "BillingPeriodStart", "ServiceCategory", "PricingUnit"]].tolist()
    [Timestamp('2026-10-01 00:00:00+0000', tz='UTC'), Timestamp('2026-10-01 00:00:00+0000', tz='UTC'), \
'AI and Machine Learning', 'Tokens']
    >>> bool(abs(focus["BilledCost"].sum() - costs["amount"].sum()) < 1e-9)
    True
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from usage_frames._core.errors import InvalidParameterError
from usage_frames.analysis.frame import endpoint_of
from usage_frames.analysis.money import split_line_items, unit_prices

FocusVersion = Literal["1.2", "1.0"]
FOCUS_VERSIONS: tuple[FocusVersion, ...] = ("1.2", "1.0")
PROVIDER = "OpenAI"
SERVICE_NAME = "OpenAI API"
SERVICE_CATEGORY = "AI and Machine Learning"
SERVICE_SUBCATEGORY = "Generative AI"  # FOCUS 1.2; its parent category is "AI and Machine Learning"
TIERS = ("batch", "flex", "priority", "scale")  # line-item prefixes that are service tiers

# The columns each version defines, in the specification's (alphabetical) order.
COLUMNS_1_0 = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd",
    "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountStatus", "CommitmentDiscountType", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
    "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId",
    "ResourceName", "ResourceType", "ServiceCategory", "ServiceName", "SkuId", "SkuPriceId", "SubAccountId",
    "SubAccountName", "Tags",
)  # fmt: skip
COLUMNS_1_2 = tuple(sorted((*COLUMNS_1_0, "BillingAccountType", "CapacityReservationId", "CapacityReservationStatus",
    "CommitmentDiscountQuantity", "CommitmentDiscountUnit", "InvoiceId", "PricingCurrency",
    "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice",
    "ServiceSubcategory", "SkuMeter", "SkuPriceDetails", "SubAccountType")))  # fmt: skip
COLUMNS: Mapping[FocusVersion, tuple[str, ...]] = {"1.2": COLUMNS_1_2, "1.0": COLUMNS_1_0}
DECIMALS = frozenset({"BilledCost", "EffectiveCost", "ListCost", "ListUnitPrice", "ContractedCost",
    "ContractedUnitPrice", "PricingQuantity", "ConsumedQuantity", "CommitmentDiscountQuantity",
    "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice"})  # fmt: skip
DATETIMES = frozenset({"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"})
# The API's quantity units in FOCUS Unit Format (capitalised plural units, "GiB-Hours", "1000 Tokens").
UNITS: Mapping[str, str] = {
    "tokens": "Tokens",
    "1000_tokens": "1000 Tokens",
    "duration_seconds": "Seconds",
    "duration_minutes": "Minutes",
    "duration_hours": "Hours",
    "gibibyte_hours": "GiB-Hours",
    "images": "Images",
    "characters": "Characters",
}
UNKNOWN_UNIT = "Units"  # a count the bill gives without a unit (quantity_unit null: "no single unit applies")
EXTRA_KEYS = {"user_id": "x_UserId", "api_key_id": "x_ApiKeyId", "api_source": "x_ApiSource"}
# What the line-item parser reads (ops.parse_line_item), as custom columns.
PARTS = {"product": "x_Product", "model": "x_Model", "modality": "x_Modality", "kind": "x_TokenKind",
         "context": "x_Context"}  # fmt: skip


def to_focus(
    costs: pd.DataFrame,
    version: FocusVersion = "1.2",
    *,
    billing_account_id: str | None = None,
    billing_account_name: str | None = None,
    projects: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The costs frame as FOCUS rows: one per costs result, every column of ``version``, then ``x_`` columns.

    Args:
        costs: Costs grouped by ``line_item`` (and ``project_id`` for sub accounts; other keys become ``x_``
            columns).
        version: ``"1.2"`` (default) or ``"1.0"``.
        billing_account_id: The organization's ID (``org-...``, in the platform's organization settings); the
            Costs API does not send it. Default: ``attrs["organization_id"]`` when the frame carries one.
        billing_account_name: The organization's name (null when not given).
        projects: ``id`` and ``name`` of the projects (``uf.projects()``) for ``SubAccountName``; a
            ``project_name`` column (``ops.label``) works too.

    Returns:
        A frame with a plain index: timestamps tz-aware UTC, decimals ``Float64``, text ``string``;
        ``attrs`` carried forward with ``focus_version``. Write it with :func:`write`.

    Raises:
        InvalidParameterError: For another version, a frame that is not costs by line item, rows without a
            quantity, or no billing account ID.

    Examples:
        >>> from usage_frames import Client
        >>> costs = Client.fake().costs("2026-10-01", "2026-10-02", group_by="line_item")
        >>> row = to_focus(costs, "1.0", billing_account_id="org-example").iloc[0]
        >>> row[["ChargeDescription", "x_Model", "x_TokenKind", "x_Tier", "BillingCurrency"]].tolist()
        ['gpt-4o-2024-08-06, input', 'gpt-4o-2024-08-06', 'input', 'default', 'USD']
    """
    if version not in FOCUS_VERSIONS:
        raise InvalidParameterError("version", version, FOCUS_VERSIONS)
    if not endpoint_of(costs).priced or "line_item" not in costs.columns:
        raise InvalidParameterError(
            "costs", endpoint_of(costs).name, reason="must be costs fetched with group_by=['project_id', 'line_item']"
        )
    account = billing_account_id or costs.attrs.get("organization_id")
    if not account:
        raise InvalidParameterError(
            "billing_account_id", account, reason="is needed (FOCUS BillingAccountId): the organization's ID, org-..."
        )
    if costs["quantity"].isna().any():
        raise InvalidParameterError(
            "costs", "rows without quantity", reason="cannot be FOCUS usage charges (PricingQuantity must be set)"
        )
    items = split_line_items(costs)
    start = pd.DatetimeIndex(costs.index)
    n = len(costs)
    quantity = costs["quantity"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    contracted, listed = _prices(costs, items)
    amount = costs["amount"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    unit = costs["quantity_unit"].astype(object).map(lambda u: UNITS.get(u, u) if isinstance(u, str) else UNKNOWN_UNIT)
    product = items["product"].astype(object)
    model = items["model"].astype(object)
    kind = items["kind"].astype(object)
    tier = [_tier(p, m) for p, m in zip(product, model, strict=True)]
    # The SKU is the line item without its tier or product prefix: the same model and token kind at any tier.
    line_items = costs["line_item"].astype(object)
    sku = [li.split("|")[-1].strip() if isinstance(m, str) else li for m, li in zip(model, line_items, strict=True)]
    month = start.floor("D") - pd.to_timedelta(start.day - 1, unit="D")
    project = costs["project_id"].astype("string") if "project_id" in costs.columns else pd.Series([pd.NA] * n)
    values: dict[str, Any] = {
        "BilledCost": amount,
        "BillingAccountId": account,
        "BillingAccountName": billing_account_name,
        "BillingAccountType": "Organization",
        "BillingCurrency": costs["currency"].astype("string").str.upper().to_numpy(),
        "BillingPeriodEnd": month + pd.offsets.MonthBegin(1),
        "BillingPeriodStart": month,
        "ChargeCategory": "Usage",
        "ChargeDescription": costs["line_item"].astype("string").to_numpy(),
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodEnd": pd.DatetimeIndex(costs["end_time"]),
        "ChargePeriodStart": start,
        "ConsumedQuantity": quantity,
        "ConsumedUnit": unit.to_numpy(),
        "ContractedCost": np.where(np.isnan(contracted), amount, contracted * quantity),
        "ContractedUnitPrice": contracted,
        "EffectiveCost": amount,
        "InvoiceIssuerName": PROVIDER,
        "ListCost": np.where(np.isnan(listed), amount, listed * quantity),
        "ListUnitPrice": listed,
        "PricingCategory": "Standard",
        "PricingQuantity": quantity,
        "PricingUnit": unit.to_numpy(),
        "ProviderName": PROVIDER,
        "PublisherName": PROVIDER,
        "ServiceCategory": SERVICE_CATEGORY,
        "ServiceName": SERVICE_NAME,
        "ServiceSubcategory": SERVICE_SUBCATEGORY,
        "SkuId": sku,
        "SkuMeter": [k if isinstance(k, str) else li for k, li in zip(kind, line_items, strict=True)],
        "SkuPriceId": costs["line_item"].astype("string").to_numpy(),
        "SubAccountId": project.to_numpy(),
        "SubAccountName": _project_names(costs, project, projects),
        "SubAccountType": project.notna().map({True: "Project", False: None}).to_numpy(),
    }
    out = pd.DataFrame(index=pd.RangeIndex(n))
    for column in COLUMNS[version]:
        value = values.get(column)
        if column in DATETIMES:
            out[column] = pd.DatetimeIndex(value).tz_convert("UTC")  # type: ignore[arg-type]
        elif column in DECIMALS:
            out[column] = pd.array(value if value is not None else [pd.NA] * n, dtype="Float64")
        else:
            out[column] = pd.array(np.broadcast_to(np.asarray(value, dtype=object), (n,)), dtype="string")
    extras: dict[str, Any] = {name: items[part] for part, name in PARTS.items() if part in items.columns}
    extras["x_Tier"] = tier
    extras |= {name: costs[key] for key, name in EXTRA_KEYS.items() if key in costs.columns}
    for name, column in extras.items():
        out[name] = pd.array(list(column), dtype="string")
    out.attrs = {**costs.attrs, "focus_version": version}
    return out


def _tier(product: object, model: object) -> str | None:
    if not isinstance(model, str):
        return None
    parts = [p.strip() for p in product.split("|")] if isinstance(product, str) else []
    return next((p for p in parts if p in TIERS), "default")


def _prices(costs: pd.DataFrame, items: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the bill's unit price of its line item, and of the same model, kind and unit without a prefix."""
    prices = unit_prices(costs).reset_index()
    labels = zip(prices["line_item"], _labels(prices["quantity_unit"]), strict=True)
    own = dict(zip(labels, prices["unit_price"], strict=True))
    rows = list(zip(costs["line_item"], _labels(costs["quantity_unit"]), strict=True))
    price = np.array([own.get(row, np.nan) for row in rows], dtype=float)
    # The same model, modality, kind and context (what the parser reads), at no tier or product prefix.
    parts = [p for p in ("model", "modality", "kind", "context") if p in items.columns and p in prices.columns]
    standard = prices[prices["product"].isna() & prices["model"].notna()]
    keys = zip(*(_labels(standard[p]) for p in parts), _labels(standard["quantity_unit"]), strict=True)
    table = dict(zip(keys, standard["unit_price"], strict=True))
    wanted = zip(*(_labels(items[p]) for p in parts), (u for _, u in rows), strict=True)
    listed = np.array([table.get(key, np.nan) for key in wanted], dtype=float)
    return price, np.where(np.isnan(listed), price, listed)


def _labels(column: pd.Series) -> list[str | None]:
    """Text labels with every kind of missing value as ``None``, so that they can be dictionary keys."""
    return [value if isinstance(value, str) else None for value in column]


def _project_names(costs: pd.DataFrame, project: pd.Series, projects: pd.DataFrame | None) -> Any:
    if "project_name" in costs.columns:
        return costs["project_name"].astype("string").to_numpy()
    if projects is None:
        return None
    names = dict(zip(projects["id"], projects["name"], strict=True))
    return project.astype(object).map(names).to_numpy()


def write(focus: pd.DataFrame, path: str | Path) -> Path:
    """Write a FOCUS frame to ``.csv`` (times as ``YYYY-MM-DDTHH:mm:ssZ``, nulls empty) or ``.parquet``.

    Raises:
        InvalidParameterError: For another suffix, or Parquet without pyarrow (with the install command).

    Examples:
        >>> import csv, tempfile
        >>> from usage_frames import Client
        >>> costs = Client.fake().costs("2026-10-01", "2026-10-02", group_by="line_item")
        >>> path = write(to_focus(costs, billing_account_id="org-example"), Path(tempfile.mkdtemp()) / "f.csv")
        >>> row = next(csv.DictReader(path.read_text().splitlines()))
        >>> row["ChargePeriodStart"], row["BillingCurrency"], row["ChargeClass"]
        ('2026-10-01T00:00:00Z', 'USD', '')
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        if importlib.util.find_spec("pyarrow") is None:
            raise InvalidParameterError(
                "output", str(path), reason="needs pyarrow: pip install 'usage-frames[parquet]'"
            )
        focus.to_parquet(path, index=False)
    elif suffix == ".csv":
        text = focus.copy()
        for column in DATETIMES & set(text.columns):
            text[column] = text[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        text.to_csv(path, index=False)
    else:
        raise InvalidParameterError("output", str(path), (".csv", ".parquet"), reason="has an unknown suffix")
    return path
