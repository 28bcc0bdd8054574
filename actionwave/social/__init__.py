"""The campaign's own social accounts (announcements, not supporters' posts)."""
