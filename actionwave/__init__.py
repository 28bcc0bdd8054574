"""Actionwave: advocacy campaigns that move with a bill in the U.S. Congress."""
