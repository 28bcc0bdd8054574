"""What organizers run a campaign with: its YAML files seeded into the database (``files``),
supporter records (``supporters``), the numbers they watch (``reports``), which legislators they
can reach and how (``coverage``, ``coverage_csv``), and what the campaign does when its bill
moves (``reactions``: the waves and reminders bound to a stage react to the transition the bill
watcher recorded).

The top of the domain: may import every feature area, ``actionwave.core`` and
``actionwave.platform``; nothing in the domain imports it.
"""
