"""Pins ``usage_frames``' clock in the suite's subprocesses (conftest :func:`pinned_env`), as conftest pins its own.

Python imports ``sitecustomize`` at start-up from its path. :func:`conftest.pinned_env` puts this folder on
``PYTHONPATH`` and the suite's ``NOW`` in ``USAGE_FRAMES_TEST_NOW``, so that the console script run as cron runs it
(and any ``python -c`` of a test) reads that instant instead of the machine's clock: its results do not depend on
when the suite runs. Without the variable it does nothing.
"""

import os

_NOW = os.environ.get("USAGE_FRAMES_TEST_NOW")
if _NOW:
    import pandas as pd

    import usage_frames._core.query

    usage_frames._core.query.wall_clock = lambda: pd.Timestamp(_NOW)
