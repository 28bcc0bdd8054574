"""Calls: a supporter says they phoned a legislator's office ("I called"), counted per campaign."""
