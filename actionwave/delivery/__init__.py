"""The delivery engine: delivery rows are the truth of what was sent, each message exactly once;
and the transactional mails queued as delivery rows (``fresh_link``: a fresh preferences link for
an expired unsubscribe link; ``signin_link``: an organizer's one-time sign-in link).

May import ``mail``, ``messages``, ``legislators``, ``cwc``, ``social``, ``accounts``, the core and
the platform;
never ``bill``, ``waves`` or ``reminders`` (a wave's status is read from the core tables).
"""
