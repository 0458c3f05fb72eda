"""The old name of :mod:`usage_frames.directory` (projects, users, keys, spend alerts and limit), kept importable."""

from usage_frames.directory import api_keys, projects, spend_alerts, spend_limit, users

__all__ = ["api_keys", "projects", "spend_alerts", "spend_limit", "users"]
