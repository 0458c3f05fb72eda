"""The bill as a FOCUS dataset: the FinOps Foundation's common schema for cost and usage data (FOCUS 1.2 or 1.0).

One FOCUS row per costs result, of any provider: its names are the provider's (``ProviderName``, ``PublisherName``,
``InvoiceIssuerName``, ``ServiceName``), its project or workspace is the ``SubAccountId`` (a default workspace is
``"default"``, as ``ops.combine`` names it). Costs must be grouped by the key that names what they bill (OpenAI's
``line_item``, Anthropic's ``description``), and by the project key (``project_id``, ``workspace_id``) for sub
accounts. Frames of several providers (a list, or ``ops.combine``'s bill) make one table.

What the bill says of each row is read as its provider reads it (:attr:`~usage_frames._core.provider.Bill.skus`):
``SkuId`` is what is sold at any tier (OpenAI's line item without its tier prefix; Anthropic's model, token type and
context window), ``SkuPriceId`` what is sold at one price (the line item; with the service tier and inference
geography), ``SkuMeter`` what is counted.

Prices, where the bill sends amounts and quantities (OpenAI's Costs API) but no price list:

- ``ContractedUnitPrice`` is the price the bill itself shows, ``amount / quantity`` of the line item over the
  exported window (:func:`usage_frames.ops.unit_prices`); ``ContractedCost`` is that price times the quantity.
- ``ListUnitPrice`` is the bill's price of the same model, token kind and unit *without* a tier or product prefix
  (``"gpt-4o, input"`` for ``"batch | gpt-4o, input"``): the list price OpenAI charged this organization. Where the
  bill has no such line item, nothing cheaper is known, so the line item's own price is used (``ListCost`` equals
  ``BilledCost``).

Where the bill sends no quantity (Anthropic's cost report; the combined bill), the quantities, units and unit prices
are null and ``ContractedCost`` and ``ListCost`` are the billed cost: nothing cheaper is known. (FOCUS asks for a
``PricingQuantity`` on usage charges; the FinOps Foundation's validator 1.0.0 does not check it.)

Every column of the version is written (conditional columns that do not apply are null); the parsed item (model,
token kind, tier) and the group keys FOCUS has no column for are ``x_`` columns after them.

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from usage_frames._core.errors import InvalidParameterError
from usage_frames._core.provider import Provider
from usage_frames.analysis.combine import DEFAULT_PROJECT
from usage_frames.analysis.frame import ALL, endpoint_of, frame_arg, label, meta_of, provider_of
from usage_frames.analysis.money import split_line_items, unit_prices
from usage_frames.providers import PROVIDERS

FocusVersion = Literal["1.2", "1.0"]
FOCUS_VERSIONS: tuple[FocusVersion, ...] = ("1.2", "1.0")
SERVICE_CATEGORY = "AI and Machine Learning"
SERVICE_SUBCATEGORY = "Generative AI"  # FOCUS 1.2; its parent category is "AI and Machine Learning"

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
# What the provider's bill reader says of each row (ops.split_line_items), as custom columns; then x_Tier, and the
# other group keys as x_ columns in CamelCase (x_UserId, x_ApiKeyId...).
PARTS = {"product": "x_Product", "model": "x_Model", "modality": "x_Modality", "kind": "x_TokenKind",
         "context": "x_Context"}  # fmt: skip


T = TypeVar("T")


def to_focus(
    costs: pd.DataFrame | Sequence[pd.DataFrame],
    version: FocusVersion = "1.2",
    *,
    billing_account_id: str | Mapping[str, str] | None = None,
    billing_account_name: str | Mapping[str, str | None] | None = None,
    projects: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """The costs as FOCUS rows: one per costs result, every column of ``version``, then ``x_`` columns.

    Args:
        costs: Costs grouped by the key that names what they bill (``line_item``, ``description``) and by the
            project key for sub accounts (``project_id``, ``workspace_id``; other keys become ``x_`` columns); a list
            of such frames (of several providers: one table); or the combined bill of ``ops.combine``.
        version: ``"1.2"`` (default) or ``"1.0"``.
        billing_account_id: The organization's ID (``org-...`` at OpenAI; Anthropic's ``/v1/organizations/me``
            says its own), or one per provider name; the cost reports do not send it. Default:
            ``attrs["organization_id"]`` when the frame carries one.
        billing_account_name: The organization's name (null when not given), or one per provider name.
        projects: ``id`` and ``name`` of the projects or workspaces for ``SubAccountName`` (``uf.projects()``, a
            provider's ``names(client)[key]``, whose row without an ``id`` names the default workspace), or one
            such frame per provider name; a ``project_name`` (``workspace_name``) column (``ops.label``) works too.

    Returns:
        A frame with a plain index: timestamps tz-aware UTC, decimals ``Float64``, text ``string``;
        ``attrs`` carried forward with ``focus_version``. Write it with :func:`write`.

    Raises:
        InvalidParameterError: For another version, a frame that is not costs by the key that names what they
            bill, rows without a quantity in a bill that has quantities, or no billing account ID.

    Examples:
        >>> from usage_frames import Client
        >>> costs = Client.fake().costs("2026-10-01", "2026-10-02", group_by="line_item")
        >>> row = to_focus(costs, "1.0", billing_account_id="org-example").iloc[0]
        >>> row[["ChargeDescription", "x_Model", "x_TokenKind", "x_Tier", "BillingCurrency"]].tolist()
        ['gpt-4o-2024-08-06, input', 'gpt-4o-2024-08-06', 'input', 'default', 'USD']
        >>> spend = Client.fake(provider="anthropic").costs("2026-10-01", "2026-10-02",
        ...                                                 group_by=["workspace_id", "description"])
        >>> both = to_focus([costs, spend], billing_account_id={"openai": "org-example", "anthropic": "6d1c4a3e"})
        >>> both.groupby("ProviderName")["ServiceName"].first().to_dict()
        {'Anthropic': 'Claude API', 'OpenAI': 'OpenAI API'}
        >>> both.loc[both["ProviderName"] == "Anthropic", ["SubAccountType", "SkuMeter"]].iloc[0].tolist()
        ['Workspace', 'uncached_input_tokens']
    """
    if version not in FOCUS_VERSIONS:
        raise InvalidParameterError("version", version, FOCUS_VERSIONS)
    frames = [costs] if isinstance(costs, pd.DataFrame) else list(costs) if isinstance(costs, Sequence) else []
    if not frames or isinstance(costs, str):
        raise InvalidParameterError("costs", costs, reason="must be a costs frame, or a list of them")
    several = len(frames) > 1
    tables = [_table(frame_arg(f, "costs"), version, billing_account_id, billing_account_name, projects, several)
              for f in frames]  # fmt: skip
    if not several:
        return tables[0]
    out = pd.concat(tables, ignore_index=True)
    for column in out.columns[len(COLUMNS[version]) :]:
        out[column] = out[column].astype("string")  # an x_ column that some frames lack
    out.attrs = {"focus_version": version, "providers": [provider_of(f).name for f in frames]}
    return out


def _of(value: T | Mapping[str, T] | None, provider: str) -> T | None:
    """One provider's value of an argument given for all providers or per provider name."""
    return value.get(provider) if isinstance(value, Mapping) else value


def _table(
    costs: pd.DataFrame,
    version: FocusVersion,
    ids: str | Mapping[str, str] | None,
    names: str | Mapping[str, str | None] | None,
    projects: pd.DataFrame | Mapping[str, pd.DataFrame] | None,
    several: bool,
) -> pd.DataFrame:
    """One frame's FOCUS rows (of one provider, or of the combined bill)."""
    provider = provider_of(costs)
    if provider is ALL:
        values, extras = _combined(costs, ids, names, projects)
    else:
        values, extras = _billed(costs, provider, ids, names, _of(projects, provider.name), several)
    n = len(costs)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    for column in COLUMNS[version]:
        value = values.get(column)
        if column in DATETIMES:
            out[column] = pd.DatetimeIndex(value).tz_convert("UTC")  # type: ignore[arg-type]
        elif column in DECIMALS:
            out[column] = pd.array(value if value is not None else [pd.NA] * n, dtype="Float64")
        else:
            out[column] = pd.array(np.broadcast_to(np.asarray(value, dtype=object), (n,)), dtype="string")
    for name, column in extras.items():
        out[name] = pd.array(list(column), dtype="string")
    out.attrs = {**costs.attrs, "focus_version": version}
    return out


def _account(provider: Provider, ids: Any, names: Any, attrs: Mapping[Any, Any], several: bool) -> tuple[str, Any]:
    """The provider's billing account ID and name, or :class:`InvalidParameterError` naming what is missing."""
    account = _of(ids, provider.name) or attrs.get("organization_id")
    if not account:
        hint = provider.credentials.account_hint
        reason = "is needed (FOCUS BillingAccountId): the organization's ID" + (f", {hint}" if hint else "")
        raise InvalidParameterError("billing_account_id", account, reason=reason + (f" ({provider.title})" * several))
    return str(account), _of(names, provider.name)


def _charges(costs: pd.DataFrame) -> dict[str, Any]:
    """What every FOCUS row of a frame says of its time, money and kind, whatever its provider."""
    start = pd.DatetimeIndex(costs.index)
    month = start.floor("D") - pd.to_timedelta(start.day - 1, unit="D")
    amount = costs["amount"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return {
        "BilledCost": amount,
        "BillingAccountType": "Organization",
        "BillingCurrency": costs["currency"].astype("string").str.upper().to_numpy(),
        "BillingPeriodEnd": month + pd.offsets.MonthBegin(1),
        "BillingPeriodStart": month,
        "ChargeCategory": "Usage",
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodEnd": pd.DatetimeIndex(costs["end_time"]),
        "ChargePeriodStart": start,
        "ContractedCost": amount,  # nothing cheaper is known, unless the bill's quantities say a price
        "EffectiveCost": amount,
        "ListCost": amount,
        "PricingCategory": "Standard",
        "ServiceCategory": SERVICE_CATEGORY,
        "ServiceSubcategory": SERVICE_SUBCATEGORY,
    }


NAMES = ("InvoiceIssuerName", "ProviderName", "PublisherName", "ServiceName")


def _names(provider: Provider) -> dict[str, str]:
    """The FOCUS names of a provider: who provides, publishes and invoices the service, and the service."""
    return dict(zip(NAMES, (*[provider.title] * 3, provider.service or f"{provider.title} API"), strict=True))


def _sub_account_type(provider: Provider) -> str | None:
    """What a provider's project key names (``Project``, ``Workspace``), from its bill's endpoint."""
    key = next((e.project_key for e in provider.endpoints.values() if e.priced), None)
    return key.removesuffix("_id").capitalize() if key else None


def _billed(
    costs: pd.DataFrame,
    provider: Provider,
    ids: Any,
    names: Any,
    projects: pd.DataFrame | None,
    several: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The FOCUS values and ``x_`` columns of one provider's costs, read as its bill reads them."""
    endpoint, bill = endpoint_of(costs), provider.bill
    key = next((e.project_key for e in provider.endpoints.values() if e.priced), None)
    if not endpoint.priced or bill is None or bill.key not in costs.columns:
        wanted = [k for k in (key, bill.key if bill is not None else None) if k]
        raise InvalidParameterError("costs", endpoint.name, reason=f"must be costs fetched with group_by={wanted}")
    account, account_name = _account(provider, ids, names, costs.attrs, several)
    if "quantity" in costs.columns and costs["quantity"].isna().any():
        raise InvalidParameterError(
            "costs", "rows without quantity", reason="cannot be FOCUS usage charges (PricingQuantity must be set)"
        )
    items = split_line_items(costs)
    values = _charges(costs) | (_quantities(costs, items) if "quantity" in costs.columns else {})
    text = costs[bill.key].astype(object)
    unsaid = pd.DataFrame({"sku": text, "price": text, "meter": None, "tier": None}, index=costs.index, dtype=object)
    sold = bill.skus(costs, items) if bill.skus is not None else unsaid
    project = _sub_accounts(costs, key)
    values |= _names(provider) | {
        "BillingAccountId": account,
        "BillingAccountName": account_name,
        "ChargeDescription": costs[bill.key].astype("string").to_numpy(),
        "SkuId": sold["sku"].to_numpy(),
        "SkuMeter": sold["meter"].to_numpy(),
        "SkuPriceId": sold["price"].to_numpy(),
        "SubAccountId": project.to_numpy(),
        "SubAccountName": _sub_account_names(costs, key, projects),
        "SubAccountType": project.notna().map({True: _sub_account_type(provider), False: None}).to_numpy(),
    }
    extras: dict[str, Any] = {name: items[part] for part, name in PARTS.items() if part in items.columns}
    extras["x_Tier"] = sold["tier"]
    for column in endpoint.key_columns(list(endpoint.group_by)):
        name = "x_" + "".join(word.capitalize() for word in column.split("_"))
        if column in costs.columns and column not in (key, bill.key) and name not in extras:
            extras[name] = costs[column]
    return values, extras


def _quantities(costs: pd.DataFrame, items: pd.DataFrame) -> dict[str, Any]:
    """Quantities, units and unit prices of a bill that sends quantities, and the costs at those prices."""
    quantity = costs["quantity"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    amount = costs["amount"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    contracted, listed = _prices(costs, items)
    unit = costs["quantity_unit"].astype(object).map(lambda u: UNITS.get(u, u) if isinstance(u, str) else UNKNOWN_UNIT)
    return {
        "ConsumedQuantity": quantity, "ConsumedUnit": unit.to_numpy(), "PricingQuantity": quantity,
        "PricingUnit": unit.to_numpy(), "ContractedUnitPrice": contracted, "ListUnitPrice": listed,
        "ContractedCost": np.where(np.isnan(contracted), amount, contracted * quantity),
        "ListCost": np.where(np.isnan(listed), amount, listed * quantity),
    }  # fmt: skip


def _sub_accounts(costs: pd.DataFrame, key: str | None) -> pd.Series:
    """The project (workspace) of each row; where the costs are grouped by it, a null one is the default."""
    if key is None or key not in costs.columns:
        return pd.Series(pd.NA, index=costs.index, dtype="string")
    values = costs[key].astype("string")
    return values.fillna(DEFAULT_PROJECT) if key in meta_of(costs).get("group_by", []) else values


def _sub_account_names(costs: pd.DataFrame, key: str | None, projects: pd.DataFrame | None) -> Any:
    """The name of each row's project: the frame's ``<project>_name`` column, else ``projects`` (via ``label``)."""
    column = f"{(key or '').removesuffix('_id')}_name"
    if column in costs.columns:
        return costs[column].astype("string").to_numpy()
    if projects is None or key is None or key not in costs.columns:
        return None
    return label(costs, names={key: projects})[column].to_numpy()


def _combined(
    costs: pd.DataFrame, ids: Any, names: Any, projects: pd.DataFrame | Mapping[str, pd.DataFrame] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The FOCUS values of the combined bill (``ops.combine``): each row with its provider's names and account.

    The combined bill keeps neither what each row bills nor a quantity: a row's SKU (and price) is its model where
    known, else its provider's whole service; quantities and unit prices are null; ``model`` is also ``x_Model``.
    """
    rows = costs["provider"].astype(object)
    present = [PROVIDERS[name] for name in dict.fromkeys(rows.dropna())]
    accounts = {p.name: _account(p, ids, names, costs.attrs, True) for p in present}

    def per_row(value: Mapping[str, Any]) -> np.ndarray:
        return rows.map(value).to_numpy(dtype=object)

    project = costs["project_id"].astype("string")
    titled = pd.Series(costs.get("project_name"), index=costs.index, dtype="string")
    for provider in present:
        listed = _of(projects, provider.name)
        if listed is not None:  # the row without an id names the default workspace
            known = {DEFAULT_PROJECT if pd.isna(i) else i: t for i, t in zip(listed["id"], listed["name"], strict=True)}
            titled = titled.mask(rows.eq(provider.name) & titled.isna(), project.map(known).astype("string"))
    service = per_row({p.name: _names(p)["ServiceName"] for p in present})
    model = costs["model"].astype(object).where(costs["model"].notna(), None).to_numpy()
    sku = np.where([isinstance(m, str) for m in model], model, service)
    kinds = per_row({p.name: _sub_account_type(p) for p in present})
    values = _charges(costs) | {
        column: per_row({p.name: _names(p)[column] for p in present}) for column in NAMES
    } | {
        "ChargeDescription": [f"{s}: {m}" if isinstance(m, str) else s for s, m in zip(service, model, strict=True)],
        "SkuId": sku,
        "SkuPriceId": sku,
        "BillingAccountId": per_row({p: a[0] for p, a in accounts.items()}),
        "BillingAccountName": per_row({p: a[1] for p, a in accounts.items()}),
        "SubAccountId": project.to_numpy(),
        "SubAccountName": titled.to_numpy(),
        "SubAccountType": [k if pd.notna(i) else None for k, i in zip(kinds, project, strict=True)],
    }  # fmt: skip
    return values, {"x_Model": costs["model"]}


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
