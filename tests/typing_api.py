"""Checked by mypy --strict (see pyproject.toml), never run: the endpoint functions' types at call sites.

``client.costs`` and ``uf.costs`` share one signature (:class:`usage_frames.EndpointFunction`); only the package-level
function takes ``client=``. Each ``type: ignore`` is an error mypy must report (strict mode fails on an unused one).
"""

from __future__ import annotations

import pandas as pd

import usage_frames as uf


def call_sites(client: uf.Client) -> list[pd.DataFrame]:
    return [
        client.costs("2026-10-01", "2026-10-08", group_by="project_id", project_ids=["proj_chat"]),
        uf.costs("2026-10-01", client=client),
        uf.completions(bucket_width="1h", group_by=["model"], batch=True),
        uf.fetch("images", client=client),
        client.fetch("images", bucket_width="1h"),
        client.costs(client=client),  # type: ignore[arg-type]  # a bound method has its client
        uf.costs(client="sk-admin-..."),  # type: ignore[arg-type]  # a key is not a client
        client.costs(bucket_width="2d"),  # type: ignore[arg-type]  # not a bucket width
    ]
