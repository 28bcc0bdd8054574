"""What a supporter sends: templates, tweets, compose links and the channel plan per legislator.

May import ``legislators``, ``cwc``, ``social``, ``accounts``, the core and the platform.
"""
