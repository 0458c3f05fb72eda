"""OpenAI as a provider: the organization Usage and Costs API (``/organization/usage/*``, ``/organization/costs``).

Its facts: its endpoint table (:mod:`.endpoints`), how it is authenticated (an organization admin key in
``Authorization: Bearer``, from ``OPENAI_ADMIN_KEY``), its API root and its one-year look-back.

Examples:
    >>> PROVIDER.title, PROVIDER.credentials.env, len(PROVIDER.endpoints)
    ('OpenAI', 'OPENAI_ADMIN_KEY', 12)
"""

from __future__ import annotations

import pandas as pd

from usage_frames._core.provider import Provider
from usage_frames._core.schema import Credentials
from usage_frames.providers.openai.billing import BILL
from usage_frames.providers.openai.endpoints import ENDPOINTS, WIRE

KEY_HELP = (
    "The Usage and Costs API needs an organization admin key (it starts with 'sk-admin-'); project and user "
    "keys are refused. An organization owner creates one at "
    "https://platform.openai.com/settings/organization/admin-keys; pass it as Client(api_key=...) or set the "
    "OPENAI_ADMIN_KEY environment variable."
)
CREDENTIALS = Credentials(
    env="OPENAI_ADMIN_KEY",
    header="Authorization",
    scheme="Bearer ",
    prefix="sk-admin-",
    refused=("sk-proj-", "sk-svcacct-"),
    help=KEY_HELP,
    base_url="https://api.openai.com/v1",
    base_url_env="OPENAI_BASE_URL",
    account_env="OPENAI_ORG_ID",  # its ID (org-...): the admin endpoints do not say it
    account_hint="org-...",
)
# The live API refuses older start times with HTTP 400 reporting_lookback_exceeded (api-notes.md section 11).
LOOKBACK_CODE = "reporting_lookback_exceeded"
LOOKBACK_HELP = (
    "The API keeps one year of usage and costs: start at or after that date; uf.sync (usage-frames sync) "
    "backfills from it."
)

PROVIDER = Provider(
    name="openai",
    title="OpenAI",
    endpoints=ENDPOINTS,
    credentials=CREDENTIALS,
    wire=WIRE,
    lookback=pd.DateOffset(years=1),
    lookback_code=LOOKBACK_CODE,
    lookback_help=LOOKBACK_HELP,
    bill=BILL,
    primary=("completions", "costs"),
    service="OpenAI API",
)
