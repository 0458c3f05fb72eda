"""The helpers of :mod:`usage_frames.ops`, one module per subject; ``usage_frames.ops`` re-exports them flat.

- :mod:`.frame`: what a frame is (endpoint, keys, fields, window, ``as_of``, ``restore_attrs``) and ``label``.
- :mod:`.reshape`: ``complete``, ``resample``, ``pivot``, ``top_n``, ``gib_days``, ``provisional``.
- :mod:`.summary`: ``totals``, ``share``, ``compare``.
- :mod:`.money`: ``join_costs``, line items, ``unit_prices``.
- :mod:`.savings`: ``unit_costs``, ``reconcile``, batch and tier savings, ``cache_efficiency``.
- :mod:`.forecast`: ``daily_spend``, ``forecast``, ``anomalies``.
"""
