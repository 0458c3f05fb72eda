"""FinOps outputs of the bill: allocation to teams (:mod:`.allocation`), budgets (:mod:`.budgets`), FOCUS.

They build on the helpers of :mod:`usage_frames.analysis`, never the other way round.
"""
