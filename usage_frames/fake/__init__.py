"""Fake APIs for tests and demos: any provider's fake organization served in-process or over HTTP, with faults.

A provider's fake organization (``usage_frames.providers.NAME.fake.FakeOrganization``) answers requests as its
API would (:class:`~usage_frames.fake.reply.Organization`); here is what is the same for all of them: serving it
on a ``requests.Session`` (:class:`FakeAdapter`, :func:`mount`) or on 127.0.0.1 (:class:`FakeServer`,
``usage-frames serve-fake``), scripted faults (:class:`Fault`, :class:`Faults`), and the hourly traffic engine
(:mod:`.traffic`) whose ground truth is exact at every width.

Examples:
    >>> from usage_frames.providers import fake_organization
    >>> faults = Faults()
    >>> faults.push(Fault(status=503))
    >>> with FakeServer(FakeAPI(fake_organization(), faults)) as server:
    ...     import requests
    ...     requests.get(server.url + "/organization/costs?start_time=1").status_code
    503
"""

from __future__ import annotations

from usage_frames.fake.faults import Fault, Faults
from usage_frames.fake.reply import Organization, Reply
from usage_frames.fake.traffic import Stream
from usage_frames.fake.transports import FakeAdapter, FakeAPI, FakeServer, mount

__all__ = ["FakeAPI", "FakeAdapter", "FakeServer", "Fault", "Faults", "Organization", "Reply", "Stream", "mount"]
