"""Celery tasks: thin wrappers that load ids, call one domain function and map errors to retries."""
