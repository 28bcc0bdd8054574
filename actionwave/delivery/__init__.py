"""The delivery engine: delivery rows are the truth of what was sent, each message exactly once.

May import ``mail``, ``messages``, ``legislators``, ``cwc``, ``social``, the core and the platform;
never ``bill``, ``waves`` or ``reminders`` (a wave's status is read from the core tables).
"""
