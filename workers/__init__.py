"""The Celery application and worker settings."""

from workers.celery_app import create_celery
from workers.queues import queue_names

__all__ = ["create_celery", "queue_names"]
