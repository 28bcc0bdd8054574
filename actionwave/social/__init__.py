"""The campaign's own social accounts (announcements, not supporters' posts).

May import the core and the platform only (no other feature area).
"""
