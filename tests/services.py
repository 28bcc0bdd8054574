"""Fail early and clearly when the test services (PostgreSQL, Redis) don't answer."""

from __future__ import annotations

import sys

import redis
import sqlalchemy as sa

from tests.conftest import REDIS_URL, SERVER_URL


def main() -> int:
    problems = []
    try:
        engine = sa.create_engine(SERVER_URL)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
    except sa.exc.OperationalError as exc:
        problems.append(f"PostgreSQL at {SERVER_URL} (TEST_DATABASE_URL): {exc.orig}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis at {REDIS_URL} (TEST_REDIS_URL): {exc}")
    for problem in problems:
        print(f"test service not answering: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
