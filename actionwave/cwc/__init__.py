"""The House's Communicating with Congress (CWC) API, XML version 2.0.

May import the core and the platform only (no other feature area).
"""
