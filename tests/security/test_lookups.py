"""Finding: address lookups were not rate-limited, so one client could flood the Census geocoder
through us. Now lookups have per-client limits (stricter with a street address) and the
geocoder's answers are remembered, so a flood of one address asks it once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask

from actionwave.platform.config import Settings
from actionwave.system.services import Services
from tests.stubs.base import StubServer, serve
from tests.stubs.census import CensusHandler
from web import create_app

ADDRESS = "/api/v1/legislators?zip=02139&address=77+Massachusetts+Ave"


@pytest.fixture
def census() -> Iterator[StubServer]:
    with serve(CensusHandler) as server:
        server.state["matches"] = [{"matched": "77 MASSACHUSETTS AVE", "state": "MA",
                                    "district": 7, "zip": "02139"}]
        yield server


def limited_app(settings: Settings, census: StubServer, **limits: str) -> Iterator[Flask]:
    own = replace(settings, geocoder_url=census.url, geocoder_timeout_seconds=2.0,
                  namespace=f"{settings.namespace}-lookups-{time.monotonic_ns()}", **limits)
    services = Services(own)
    app = create_app(own, services)
    app.config["TESTING"] = True
    yield app
    services.close()


@pytest.fixture
def app_with_limits(settings: Settings, census: StubServer) -> Iterator[Flask]:
    yield from limited_app(settings, census, rate_limit_lookups="20/minute",
                           rate_limit_address_lookups="5/minute")


def test_a_flood_of_one_address_reaches_the_geocoder_once(settings, census):
    for app in limited_app(settings, census, rate_limit_lookups="",
                           rate_limit_address_lookups=""):
        client = app.test_client()
        for _ in range(20):
            assert client.get(ADDRESS).status_code == 200
    assert len(census.state["queries"]) == 1


def test_lookups_are_limited_per_client(app_with_limits: Flask, census: StubServer):
    me = app_with_limits.test_client()
    other = app_with_limits.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    codes = [me.get(f"/api/v1/legislators?zip=02139&address={n}+Main+St").status_code
             for n in range(6)]
    assert codes[:5] == [200] * 5 and codes[5] == 429
    assert len(census.state["queries"]) == 5  # the refused one never reached the geocoder
    assert other.get(ADDRESS).status_code == 200  # another client has its own allowance
    zips = [me.get("/api/v1/legislators?zip=82001").status_code for _ in range(20)]
    assert zips.count(429) >= 5  # five of its twenty went on address lookups
    page = me.get("/c/no-such-campaign?zip=82001")
    assert page.status_code == 429 and "<html" in page.get_data(as_text=True)


def test_two_processes_share_the_geocoders_answers_through_redis(settings, census, redis_client):
    own = replace(settings, geocoder_url=census.url, geocoder_timeout_seconds=2.0,
                  namespace=f"{settings.namespace}-geocache-{time.monotonic_ns()}")
    first, second = Services(own), Services(own)  # as two web processes would build them
    address = "77 Massachusetts Ave, Cambridge MA"
    assert first.geocoder is not second.geocoder
    assert first.geocoder.locate(address) == second.geocoder.locate(address.upper())
    assert len(census.state["queries"]) == 1
    census.state["mode"] = "nomatch"  # a bad address: its miss is shared too, briefly
    for services in (first, second, first):
        assert services.geocoder.locate("nowhere at all") is None
    assert len(census.state["queries"]) == 2
    keys = [k.decode() for k in redis_client.keys(f"{own.namespace}:geocoder:*")]
    assert len(keys) == 2 and not any("massachusetts" in k.lower() for k in keys)
    ttls = sorted(redis_client.ttl(k) for k in keys)
    assert 0 < ttls[0] <= 300 and 300 < ttls[1] <= 3600  # the miss expires sooner
    redis_client.delete(*keys)


def test_without_redis_the_answers_are_kept_per_process(settings, census):
    own = replace(settings, geocoder_url=census.url, geocoder_timeout_seconds=2.0,
                  redis_url="", database_url="sqlite://")
    first, second = Services(own), Services(own)
    for services in (first, first, second):
        services.geocoder.locate("77 Massachusetts Ave")
    assert len(census.state["queries"]) == 2  # once per process
