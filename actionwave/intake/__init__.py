"""Accepting a supporter's action and handing it on: validation and acceptance
(``submissions``), the one durable transaction that stores them (``storage``), group commit of
concurrent submissions (``group_commit``), the transactional outbox relay (``outbox``) with its
surge hold (``surge``), and the resolution of each accepted action to the legislators it goes to
(``resolution``).

May import the feature areas below it (``cwc``, ``mail``, ``legislators``, ``messages``),
``actionwave.core`` and ``actionwave.platform``; the doors (``web``, ``workers``, ``tasks``) and
``actionwave.system`` call it.
"""
