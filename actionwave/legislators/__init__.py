"""Who represents a supporter: the legislator data snapshot, ZIP and address lookup."""
