"""Follow-ups: rows with ``due_at`` swept every minute by beat, never broker countdowns.

May import ``waves``, ``delivery``, ``bill`` and the areas below them (``mail``, ``messages``,
``legislators``, ``cwc``, ``social``, ``accounts``), the core and the platform.
"""
