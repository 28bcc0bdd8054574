"""The bill watcher: congress.gov actions in, stage transitions out (see ``watcher``)."""
