"""Web and worker processes settle the garbage collector once started
(actionwave.platform.collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from celery.signals import worker_init

from actionwave.platform import collector
from actionwave.platform.config import Settings


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_a_web_process_settles_the_collector(restored_collector: None) -> None:
    from web import gunicorn_conf

    gunicorn_conf.post_worker_init(worker=None)
    assert gc.get_threshold() == collector.THRESHOLDS
    assert gc.get_freeze_count() > 0


def test_a_celery_worker_settles_the_collector(settings: Settings,
                                               restored_collector: None) -> None:
    from workers import create_celery

    app = create_celery(settings)
    try:
        worker_init.send(sender=None)
    finally:
        app.services.close()  # type: ignore[attr-defined]
    assert gc.get_threshold() == collector.THRESHOLDS
    assert gc.get_freeze_count() > 0
