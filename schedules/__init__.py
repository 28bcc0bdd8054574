"""The beat schedule, as code."""
