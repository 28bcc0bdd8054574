"""The running system: ``Services``, the one place that builds each outside service from
``Settings`` (once, on first use) and hands it to the doors; readiness (``health``); Prometheus
metrics (``metrics``); every feature area's tables on one metadata (``schema``, for Alembic and
the tests); and ``doctor``, one harmless call to each configured provider.

Wires the domain together, so it may import all of it and the platform; only the doors (``web``,
``tasks``, ``workers``, ``actionwave.cli``) import it.
"""
