"""The provider-neutral core: endpoint schema, queries and windows, pages and their checks, frames, the client.

Private: users import from :mod:`usage_frames`; the modules here may move without notice.
"""
