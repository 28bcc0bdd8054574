"""What a supporter sends: templates, tweets, compose links and the channel plan per legislator."""
