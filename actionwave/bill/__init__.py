"""The bill watcher: congress.gov actions in, stage transitions out (see ``watcher``).

May import ``social`` (announcements), ``mail``, ``messages``, ``legislators``, ``cwc``, the core
and the platform; never ``delivery``, ``waves`` or ``reminders``: it records transitions, and
the campaign reacts to them.
"""
