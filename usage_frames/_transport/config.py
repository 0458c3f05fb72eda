"""What a request is sent with, checked before anything is sent: the admin key, the base URL, the timeout, the session.

The key and the API root follow the provider's :class:`~usage_frames._core.schema.Credentials` (its environment
variables, the prefixes of keys that are never admin keys, how to create one). Errors show a key's ``sk-<kind>-``
prefix at most (:func:`key_shape`), never a character more.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import requests
from requests_cache import CachedSession

from usage_frames._core.errors import CacheError, InvalidParameterError, MissingAPIKeyError, UsageFramesWarning
from usage_frames._core.schema import Credentials
from usage_frames._transport.cache import cached_session, default_cache_dir, keep_out
from usage_frames._transport.send import MAX_CONNECTIONS, plain_session

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

# An admin key is printable ASCII (letters, digits, "-" and "_" in practice); anything else was pasted by mistake.
KEY_CHARS = re.compile(r"[\x21-\x7e]+")


def key_shape(key: str) -> str:
    """What an error may show of a key: its ``sk-<kind>-`` prefix, never a character more."""
    parts = key.split("-")
    return f"sk-{parts[1]}-..." if len(parts) > 2 and parts[0] == "sk" and parts[1].isalnum() else "..."


def admin_key(api_key: object, credentials: Credentials, others: Mapping[str, Credentials] | None = None) -> str:
    """The admin key from the argument or the provider's environment variable, checked; errors show only its prefix.

    Args:
        api_key: The key given, or ``None`` for the environment variable's.
        credentials: The provider's key rules.
        others: The other providers' key rules by provider name: a key of theirs is refused, naming them.
    """
    key = api_key if api_key is not None else os.environ.get(credentials.env, "")
    help = credentials.help
    if not isinstance(key, str):
        raise InvalidParameterError("api_key", f"<{type(key).__name__}>", reason="must be a str. " + help)
    key = key.strip()  # a trailing newline from a file or a copy is harmless
    if not key:
        raise MissingAPIKeyError("No admin key. " + help)
    if not KEY_CHARS.fullmatch(key):
        bad = next(c for c in key if not KEY_CHARS.fullmatch(c))
        raise InvalidParameterError(
            "api_key",
            key_shape(key),
            reason=f"contains '{bad.encode('unicode_escape').decode()}' (a line break, a space or an invisible or "
            "non-ASCII character, pasted with the key?); copy the key again",
        )
    if credentials.refused and key.startswith(credentials.refused):
        raise InvalidParameterError("api_key", key_shape(key), reason="is not an admin key. " + help)
    for name, other in (others or {}).items():
        if key.startswith(credentials.prefix):
            break
        if key.startswith(other.prefix):  # the right key for the wrong client: no help to create another one
            why = f"is an admin key of another provider, {name!r}: Client(provider={name!r}) reads it"
            raise InvalidParameterError("api_key", key_shape(key), reason=why)
        if other.refused and key.startswith(other.refused):
            why = f"is a key of {name!r}, not an admin key. "
            raise InvalidParameterError("api_key", key_shape(key), reason=why + help)
    return key


def base_url(base_url: object, allow_http: bool, credentials: Credentials) -> str:
    """The API root from the argument, the provider's environment variable or its default, checked."""
    default = credentials.base_url
    url = base_url if base_url is not None else os.environ.get(credentials.base_url_env) or default
    if not isinstance(url, str):
        raise InvalidParameterError("base_url", url, reason="must be a str such as " + default)
    url = url.strip().rstrip("/") or default
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise InvalidParameterError("base_url", url, reason=f"is not a URL ({exc})") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not KEY_CHARS.fullmatch(url)
        or parts.query
        or parts.fragment
    ):
        raise InvalidParameterError("base_url", url, reason="must be an http(s) URL such as " + default)
    if parts.username is not None or parts.password is not None:  # a secret in the URL would show in every repr
        raise InvalidParameterError(
            "base_url", "<a URL with a user or password>", reason="must not carry credentials; the key is enough"
        )
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS and allow_http is not True:
        raise InvalidParameterError(
            "base_url", url, reason="is plain http on a non-loopback host; use https or pass allow_http=True"
        )
    return url


def _seconds(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 10**6 and value == value


def timeout(timeout: object) -> float | tuple[float, float]:
    """A positive, finite timeout in seconds, or a ``(connect, read)`` pair of them."""
    if isinstance(timeout, tuple) and len(timeout) == 2 and all(_seconds(t) for t in timeout):
        return float(timeout[0]), float(timeout[1])
    if _seconds(timeout):
        return float(timeout)  # type: ignore[arg-type]
    raise InvalidParameterError(
        "timeout", timeout, reason="must be seconds > 0 (an int or float), or a (connect, read) pair of them"
    )




def session(
    session: requests.Session | None,
    cache: bool | str | os.PathLike[str] | CachedSession | None,
    offline: bool,
    credential: str = "Authorization",
    namespace: str = "",
) -> requests.Session:
    """The session to send with: the one given, else a cached one (see ``Client(cache=)``), else a plain one.

    Any cache keys its entries by the provider's ``credential`` header under its ``namespace``, and never stores
    that header (:func:`~usage_frames._transport.cache.keep_out`).
    """
    if session is None:
        if isinstance(cache, CachedSession):
            session = cache
        elif cache is False or cache is None:
            session = plain_session()
        else:
            folder = default_cache_dir() if cache is True else Path(cache)
            try:
                session = cached_session(folder, offline=offline, credential=credential, namespace=namespace)
            except CacheError as exc:
                if offline:
                    raise
                warnings.warn(f"{exc}; fetching without a cache", UsageFramesWarning, stacklevel=3)
                session = plain_session()
    if isinstance(session, CachedSession):
        keep_out(session, credential, namespace)
    if offline and not isinstance(session, CachedSession):
        raise InvalidParameterError("offline", offline, reason="needs a cache (cache=True, a path or a session)")
    return session


def origin(url: str) -> str:
    """The prefix a transport is mounted at for an API root: its scheme and host (``https://api.example.com/``).

    Examples:
        >>> origin("https://api.example.com/v1")
        'https://api.example.com/'
    """
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def check_path(path: object) -> None:
    """Refuse anything but an API path (``/organization/...``) before it is joined to the base URL."""
    if not isinstance(path, str) or not path.startswith("/") or not KEY_CHARS.fullmatch(path):
        raise InvalidParameterError("path", path, reason="must be an API path such as '/organization/projects'")


def check_options(
    *, max_retries: object, workers: object, max_requests: object, offline: object, allow_http: object,
    progress: object, sleep: object, session: object, cache: object, transport: object = None,
) -> None:
    """Refuse a client option of the wrong type or out of range, naming it and what it accepts."""
    for name, value, low, high in (
        ("max_retries", max_retries, 0, 100),
        ("workers", workers, 1, MAX_CONNECTIONS),
        ("max_requests", max_requests, 1, 10**6),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidParameterError(name, value, reason=f"must be an int >= {low} and <= {high}")
    for name, flag in (("offline", offline), ("allow_http", allow_http)):
        if not isinstance(flag, bool):
            raise InvalidParameterError(name, flag, (True, False), reason="must be a bool")
    if progress is not None and not isinstance(progress, bool):
        raise InvalidParameterError("progress", progress, (True, False, None), reason="must be a bool or None")
    if not callable(sleep):
        raise InvalidParameterError("sleep", sleep, reason="must be a callable taking seconds, like time.sleep")
    if session is not None and not isinstance(session, requests.Session):
        raise InvalidParameterError("session", session, reason="must be a requests.Session (or None)")
    if not isinstance(cache, bool | str | os.PathLike | CachedSession) and cache is not None:
        raise InvalidParameterError(
            "cache", cache, reason="must be True, False, a folder path or a requests-cache CachedSession"
        )
    if isinstance(cache, str | os.PathLike) and (not os.fspath(cache) or "\x00" in os.fspath(cache)):
        raise InvalidParameterError("cache", cache, reason="is not a usable folder path (empty, or a NUL in it)")
    if transport is not None and not isinstance(transport, requests.adapters.BaseAdapter):
        raise InvalidParameterError("transport", transport, reason="must be a requests transport adapter or None")


def merge_environment_once(session: requests.Session, base_url: str) -> None:
    """Read the environment's proxy and CA bundle settings for ``base_url`` once, for every request of a session.

    requests merges them on every request (proxy bypass rules and all: 6.5 ms a request in benchmarks/); a
    session the user passed is left as it is.
    """
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"] if settings["verify"] is not None else session.verify
    session.trust_env = False
