"""What a fake answers with (:class:`Reply`), and what a provider's fake organization offers (:class:`Organization`).

Examples:
    >>> Reply(200, {}, b'{"a": 1}').json()
    {'a': 1}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from usage_frames._core.provider import Provider


@dataclass(frozen=True, slots=True)
class Reply:
    """A fake HTTP answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The decoded body."""
        return msgspec.json.decode(self.body)


class Organization(Protocol):
    """A provider's fake organization, as the fake API serves it.

    Attributes:
        provider: Whose organization it is: its API root (where the fake is mounted) and its wire format (faults
            move bucket times and keep request ids as the provider spells them).
    """

    @property
    def provider(self) -> Provider:
        """Its provider."""
        ...

    def respond(self, method: str, path: str, query: Mapping[str, Sequence[str]], headers: Mapping[str, str]) -> Reply:
        """Answer one request as the provider's API would (pure but for the clock)."""
        ...

    def error(self, status: int, message: str, kind: str, headers: Mapping[str, str]) -> Reply:
        """An error answer in the provider's envelope (what a scripted fault answers)."""
        ...
