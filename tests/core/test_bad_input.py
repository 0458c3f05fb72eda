"""Every argument mistake a user can make, with its exact error; the same table is in the README.

Run ``python tests/core/test_bad_input.py`` to print the README table; a test checks that the README has it.
"""

from __future__ import annotations

import datetime as dt
import math
import os

import numpy as np
import pandas as pd
import pytest
from conftest import NOW, ROOT

import usage_frames as uf

README = ROOT / "README.md"

# (mistake, call, the exact message); calls run with ``client = uf.Client.fake(now=NOW)``.
MISTAKES = [
    (
        "unknown endpoint",
        'uf.fetch("completion", client=client)',
        "endpoint: 'completion' is not allowed here; allowed: 'completions', 'decisions', 'embeddings', 'moderations', "
        "'images', 'audio_speeches', 'audio_transcriptions', 'vector_stores', 'code_interpreter_sessions', "
        "'file_search_calls', 'web_search_calls', 'costs' (did you mean 'completions'?)",
    ),
    (
        "unknown bucket width",
        'client.completions(bucket_width="1w")',
        "bucket_width: '1w' is not allowed for completions; allowed: '1m', '1h', '1d'",
    ),
    ("costs with 1h", 'client.costs(bucket_width="1h")', "bucket_width: '1h' is not allowed for costs; allowed: '1d'"),
    (
        "unknown group key",
        'client.completions(group_by="modle")',
        "group_by: 'modle' is not allowed for completions; allowed: 'project_id', 'user_id', 'api_key_id', 'model', "
        "'batch', 'service_tier', 'api_source' (did you mean 'model'?)",
    ),
    (
        "group key of another endpoint",
        'client.costs(group_by="model")',
        "group_by: 'model' is not allowed for costs; allowed: 'project_id', 'user_id', 'api_key_id', 'line_item', "
        "'api_source'",
    ),
    (
        "comma-joined keys",
        'client.completions(group_by="project_id,model")',
        "group_by: 'project_id,model' is not allowed for completions; allowed: 'project_id', 'user_id', 'api_key_id', "
        "'model', 'batch', 'service_tier', 'api_source' (did you mean 'project_id'?)",
    ),
    (
        "unknown filter",
        'client.completions(project_id="proj_1")',
        "filter: 'project_id' is not a filter of completions; allowed: 'project_ids', 'user_ids', 'api_key_ids', "
        "'models', 'batch' (did you mean 'project_ids'?)",
    ),
    (
        "filter of another endpoint",
        'client.vector_stores(models="gpt-4o")',
        "filter: 'models' is not a filter of vector_stores; allowed: 'project_ids'",
    ),
    (
        "enum value",
        'client.images(sources="image.edits")',
        "sources: 'image.edits' is not allowed for images; allowed: 'image.generation', 'image.edit', "
        "'image.variation' (did you mean 'image.edit'?)",
    ),
    (
        "empty list",
        "client.completions(project_ids=[])",
        "project_ids: [] is empty and would match nothing; leave it out to match everything",
    ),
    ("wrong type of filter value", "client.completions(models=[4])", "models: 4 must be a non-empty str"),
    ("bool filter as text", 'client.completions(batch="yes")', "batch: 'yes' must be a bool; allowed: True, False"),
    (
        "start after end",
        'client.costs("2026-10-02", "2026-10-01")',
        "start: '2026-10-02T00:00:00+00:00' must be before end 2026-10-01T00:00:00+00:00",
    ),
    (
        "start in the future",
        'client.costs("2027-01-01")',
        "start: '2027-01-01T00:00:00+00:00' must be before end 2026-11-28T12:00:00+00:00 (now: end defaults to now and "
        "is clamped to now)",
    ),
    (
        "unreadable time",
        'client.costs("last tuesday")',
        "start: 'last tuesday' is not a readable time (Unknown datetime string format, unable to parse: last tuesday)",
    ),
    (
        "milliseconds for seconds",
        "client.costs(1790812800000)",
        "start: 1790812800000 is out of range for Unix seconds (milliseconds are not accepted)",
    ),
    (
        "wrong type of time",
        "client.costs([2026, 10, 1])",
        "start: [2026, 10, 1] is not a time; pass a datetime, date, ISO string or Unix seconds",
    ),
    (
        "limit above the page maximum",
        "client.completions(limit=32)",
        "limit: 32 must be an int from 1 to 31 for bucket_width='1d'",
    ),
    (
        "a window too long for 1m",
        'client.completions("2023-01-01", bucket_width="1m")',
        "start: '2023-01-01T00:00:00+00:00' makes a window too long for bucket_width='1m': 1428 days need 1428 "
        "requests, more than max_requests=1000; use '1h' or split it",
    ),
    (
        "a project key",
        'uf.Client("sk-proj-abc123")',
        "api_key: 'sk-proj-...' is not an admin key. The Usage and "
        "Costs API needs an organization admin key (it starts with 'sk-admin-'); project and user keys are refused. An "
        "organization owner creates one at https://platform.openai.com/settings/organization/admin-keys; pass it as "
        "Client(api_key=...) or set the OPENAI_ADMIN_KEY environment variable.",
    ),
    (
        "no key at all",
        "uf.Client()",
        "No admin key. The Usage and Costs API needs an organization admin key (it "
        "starts with 'sk-admin-'); project and user keys are refused. An organization owner creates one at "
        "https://platform.openai.com/settings/organization/admin-keys; pass it as Client(api_key=...) or set the "
        "OPENAI_ADMIN_KEY environment variable.",
    ),
    (
        "plain http to a remote host",
        'uf.Client("sk-admin-x", "http://usage.example.com/v1")',
        "base_url: 'http://usage.example.com/v1' is plain http on a non-loopback host; use https or pass "
        "allow_http=True",
    ),
    (
        "offline without a cache",
        'uf.Client("sk-admin-x", cache=False, offline=True)',
        "offline: True needs a cache (cache=True, a path or a session)",
    ),
    (
        "a key pasted across lines",
        'uf.Client("sk-admin-abc\\r\\ndef")',
        "api_key: 'sk-admin-...' contains '\\r' (a line break, a space or an invisible or non-ASCII character, "
        "pasted with the key?); copy the key again",
    ),
    (
        "an invisible character in the key",
        'uf.Client("sk-admin-abc\\u200bdef")',
        "api_key: 'sk-admin-...' contains '\\u200b' (a line break, a space or an invisible or non-ASCII character, "
        "pasted with the key?); copy the key again",
    ),
    (
        "a project key with a space before it",
        'uf.Client(" sk-proj-abc123")',
        "api_key: 'sk-proj-...' is not an admin key. The Usage and Costs API needs an organization admin key (it "
        "starts with 'sk-admin-'); project and user keys are refused. An organization owner creates one at "
        "https://platform.openai.com/settings/organization/admin-keys; pass it as Client(api_key=...) or set the "
        "OPENAI_ADMIN_KEY environment variable.",
    ),
    (
        "a key that is not text",
        'uf.Client(b"sk-admin-abc")',
        "api_key: '<bytes>' must be a str. The Usage and Costs API needs an organization admin key (it starts with "
        "'sk-admin-'); project and user keys are refused. An organization owner creates one at "
        "https://platform.openai.com/settings/organization/admin-keys; pass it as Client(api_key=...) or set the "
        "OPENAI_ADMIN_KEY environment variable.",
    ),
    (
        "a key that is a number",
        "uf.Client(123)",
        "api_key: '<int>' must be a str. The Usage and Costs API needs an organization admin key (it starts with "
        "'sk-admin-'); project and user keys are refused. An organization owner creates one at "
        "https://platform.openai.com/settings/organization/admin-keys; pass it as Client(api_key=...) or set the "
        "OPENAI_ADMIN_KEY environment variable.",
    ),
    (
        "a base URL that is not text",
        'uf.Client("sk-admin-x", 123)',
        "base_url: 123 must be a str such as https://api.openai.com/v1",
    ),
    (
        "a broken base URL",
        'uf.Client("sk-admin-x", "http://[::1")',
        "base_url: 'http://[::1' is not a URL (Invalid IPv6 URL)",
    ),
    (
        "a zero timeout",
        'uf.Client("sk-admin-x", timeout=0)',
        "timeout: 0 must be seconds > 0 (an int or float), or a (connect, read) pair of them",
    ),
    (
        "a negative timeout",
        'uf.Client("sk-admin-x", timeout=-1)',
        "timeout: -1 must be seconds > 0 (an int or float), or a (connect, read) pair of them",
    ),
    (
        "a timeout that is not a number",
        'uf.Client("sk-admin-x", timeout="x")',
        "timeout: 'x' must be seconds > 0 (an int or float), or a (connect, read) pair of them",
    ),
    (
        "a NaN timeout",
        'uf.Client("sk-admin-x", timeout=math.nan)',
        "timeout: nan must be seconds > 0 (an int or float), or a (connect, read) pair of them",
    ),
    (
        "max_requests as text",
        'uf.Client("sk-admin-x", max_requests="x")',
        "max_requests: 'x' must be an int >= 1 and <= 1000000",
    ),
    (
        "no workers",
        'uf.Client("sk-admin-x", workers=0)',
        "workers: 0 must be an int >= 1 and <= 64",
    ),
    (
        "negative retries",
        'uf.Client("sk-admin-x", max_retries=-1)',
        "max_retries: -1 must be an int >= 0 and <= 100",
    ),
    (
        "a sleep that is not callable",
        'uf.Client("sk-admin-x", sleep=3)',
        "sleep: 3 must be a callable taking seconds, like time.sleep",
    ),
    (
        "a cache that is neither a flag nor a path",
        'uf.Client("sk-admin-x", cache=123)',
        "cache: 123 must be True, False, a folder path or a requests-cache CachedSession",
    ),
    (
        "a str for the client",
        'uf.costs(client="x")',
        "client: 'x' must be a usage_frames.Client or None",
    ),
    (
        "a str for the client of a list",
        'uf.projects(client="x")',
        "client: 'x' must be a usage_frames.Client or None",
    ),
    (
        "a list of endpoints to fetch",
        'uf.fetch(["completions"], client=client)',
        "endpoint: ['completions'] must be one endpoint name (a str); allowed: 'completions', 'decisions', "
        "'embeddings', 'moderations', 'images', 'audio_speeches', 'audio_transcriptions', 'vector_stores', "
        "'code_interpreter_sessions', 'file_search_calls', 'web_search_calls', 'costs'",
    ),
    (
        "an array as bucket width",
        'client.costs(bucket_width=np.array(["1d"]))',
        "bucket_width: array(['1d'], dtype='<U2') must be a str; allowed: '1d'",
    ),
    (
        "Unix seconds beyond any float",
        "client.costs(10**400)",
        "start: 10000000000000000000000000000000000000000000000000000000000000000000000000000... is out of range "
        "for Unix seconds (milliseconds are not accepted)",
    ),
    (
        "a superscript digit",
        'client.costs("²")',
        "start: '²' is not a readable time (Unknown datetime string format, unable to parse: ²)",
    ),
    (
        "the year 1",
        'uf.plan("costs", dt.datetime(1, 1, 1))',
        "start: datetime.datetime(1, 1, 1, 0, 0) is before 1970-01-01, where the API's Unix time starts",
    ),
]
# Accepted, not mistakes: naive and aware times mixed (naive is UTC), a str for a list, an end in the future
# (clamped to now), repeated group keys (deduplicated), a naive clock.
ACCEPTED = [
    'client.costs("2026-10-01", pd.Timestamp("2026-10-02 02:00", tz="Europe/Berlin"))',
    'uf.Client.fake(now=dt.datetime(2026, 11, 28, 12)).costs("2026-10-01")',  # a naive "now" is UTC, like any time
    'client.completions("2026-10-01", "2027-01-01", group_by=["model", "model"], models="gpt-4o-2024-08-06")',
]


def run(call: str) -> object:
    from usage_frames.providers.openai.fake import FakeOrganization

    client = uf.Client.fake(FakeOrganization(now=NOW), now=NOW)
    return eval(call, {"uf": uf, "pd": pd, "np": np, "dt": dt, "math": math, "client": client})


@pytest.mark.parametrize(("mistake", "call", "message"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_mistake__raises_the_exact_error_before_any_request(mistake, call, message):
    with pytest.raises((uf.InvalidParameterError, uf.MissingAPIKeyError)) as info:
        run(call)
    assert str(info.value) == message


@pytest.mark.parametrize("call", ACCEPTED)
def test_not_a_mistake__is_accepted(call):
    assert len(run(call)) > 0


def markdown() -> str:
    rows = ["| mistake | call | error |", "|---|---|---|"]
    rows += [f"| {m} | `{c}` | {msg.replace('|', '/')} |" for m, c, msg in MISTAKES]
    return "\n".join(rows)


def test_readme__has_the_same_table():
    assert markdown() in README.read_text()


if __name__ == "__main__":
    os.environ.pop("OPENAI_ADMIN_KEY", None)
    print(markdown())
