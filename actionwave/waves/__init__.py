"""Action waves: an organizer's call to a segment of supporters, fanned out into deliveries.

May import ``delivery``, ``bill`` and the areas below them (``mail``, ``messages``, ``legislators``,
``cwc``, ``social``, ``accounts``), the core and the platform; never ``reminders`` or ``campaigns``.
"""
