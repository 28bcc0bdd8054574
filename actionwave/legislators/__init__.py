"""Who represents a supporter: the legislator data snapshot, ZIP and address lookup.

May import the core and the platform only (no other feature area).
"""
