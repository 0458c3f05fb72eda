"""Anthropic as a provider: the Admin API's usage report for Messages and its cost report.

Its facts: its endpoint table (:mod:`.endpoints`), how it is authenticated (an Admin API key, ``sk-ant-admin...``,
in ``x-api-key`` with ``anthropic-version: 2023-06-01``, from ``ANTHROPIC_ADMIN_KEY``), its API root (the SDKs'
``ANTHROPIC_BASE_URL``, else ``https://api.anthropic.com``; paths carry the version) and its error envelope
(``{"type": "error", "error": {"type", "message"}}``, the request id in ``request-id``).

Examples:
    >>> PROVIDER.credentials.header, dict(PROVIDER.credentials.headers)
    ('x-api-key', {'anthropic-version': '2023-06-01'})
"""

from __future__ import annotations

from usage_frames._core.provider import Provider
from usage_frames._core.schema import Credentials
from usage_frames.providers.anthropic.billing import BILL
from usage_frames.providers.anthropic.endpoints import ENDPOINTS, WIRE

KEY_HELP = (
    "The Usage and Cost API needs an Admin API key (it starts with 'sk-ant-admin'); ordinary API keys "
    "('sk-ant-api...') are refused. An organization admin creates one in the Claude Console under Settings > Admin "
    "keys (https://console.anthropic.com/settings/admin-keys); pass it as Client(provider='anthropic', api_key=...) "
    "or set the ANTHROPIC_ADMIN_KEY environment variable."
)
CREDENTIALS = Credentials(
    env="ANTHROPIC_ADMIN_KEY",
    header="x-api-key",
    prefix="sk-ant-admin",
    refused=("sk-ant-api",),
    help=KEY_HELP,
    base_url="https://api.anthropic.com",
    base_url_env="ANTHROPIC_BASE_URL",
    headers=(("anthropic-version", "2023-06-01"),),
    account_path="/v1/organizations/me",  # the key's organization: {"id": <uuid>, "name", "type": "organization"}
)

PROVIDER = Provider(
    name="anthropic",
    title="Anthropic",
    endpoints=ENDPOINTS,
    credentials=CREDENTIALS,
    wire=WIRE,
    cache_namespace="anthropic",
    bill=BILL,
    primary=("messages", "costs"),
    service="Claude API",
)
