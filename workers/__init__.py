"""The Celery application and worker settings."""

from workers.celery_app import create_celery

__all__ = ["create_celery"]
