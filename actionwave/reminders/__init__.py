"""Follow-ups: rows with ``due_at`` swept every minute by beat, never broker countdowns."""
