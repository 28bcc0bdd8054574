"""Action waves: an organizer's call to a segment of supporters, fanned out into deliveries."""
