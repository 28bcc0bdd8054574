"""The shared kernel of the domain: the core tables every feature area builds on (``models``:
campaigns, supporters, actions, targets, deliveries, waves, reminders, the outbox), the running
counts bumped in the same transaction as what they count (``counters``), and the contract between
the delivery engine and the outside services (``channels``: ``Mailer``, ``Retryable``,
``Permanent``).

May import ``actionwave.platform`` only.
"""
