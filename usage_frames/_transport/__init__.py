"""How a request travels: retry policy (:mod:`.retry`), the HTTP cache (:mod:`.cache`), the socket I/O (:mod:`.send`).

Nothing else in the package opens a socket, except the fake's server (:mod:`usage_frames.fake`).
"""
