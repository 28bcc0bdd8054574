"""The delivery engine: delivery rows are the truth of what was sent, each message exactly once."""
