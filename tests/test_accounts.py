"""Organizer accounts: password hashing, sign-in throttling, sessions, API tokens, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from actionwave.accounts import throttle
from actionwave.accounts.models import ApiToken, User
from actionwave.accounts.passwords import WeakPassword, hash_password, verify_password
from actionwave.accounts.services import (
    AccountError,
    LockedOut,
    create_api_token,
    create_user,
    revoke_api_token,
    session_principal,
    sign_in,
    sign_out,
    token_principal,
)

PASSWORD = "correct horse battery"


def test_password_hash_round_trips_and_rejects_a_wrong_one():
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt:32768:8:1$")  # werkzeug.security's scrypt
    assert PASSWORD not in stored
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "!", stored)
    assert not verify_password(PASSWORD, "garbage")


# Written by the project's own scrypt code before Werkzeug's: organizers' stored hashes look so.
OLD_HASH = "scrypt$32768$8$1$SLnBLGhkRA6d8BMBHCE_mA$_NTKJLHHU74-f3g71_Umy5ce3iiY-e-VEGJGwlKrhyY"


def test_a_hash_from_before_werkzeug_still_verifies():
    assert verify_password("correct horse battery staple", OLD_HASH)
    assert not verify_password("correct horse battery stapl", OLD_HASH)
    assert not verify_password("correct horse battery staple", OLD_HASH[:-3])
    assert not verify_password("correct horse battery staple", "scrypt$x$8$1$salt$key")


def test_each_password_gets_its_own_salt():
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_short_password_is_refused():
    with pytest.raises(WeakPassword):
        hash_password("short")


def test_sign_in_opens_a_session_that_sign_out_closes(db_session):
    create_user(db_session, "Ann@Example.org", PASSWORD, "organizer")
    user, session_id = sign_in(db_session, "ann@example.org", PASSWORD, "ip1")
    principal = session_principal(db_session, session_id)
    assert principal is not None and principal.role == "organizer" and principal.user_id == user.id
    sign_out(db_session, session_id)
    assert session_principal(db_session, session_id) is None


def test_unknown_email_and_wrong_password_read_the_same(db_session):
    create_user(db_session, "ann@example.org", PASSWORD, "viewer")
    with pytest.raises(AccountError) as wrong:
        sign_in(db_session, "ann@example.org", "nope nope nope", "ip1")
    with pytest.raises(AccountError) as unknown:
        sign_in(db_session, "bob@example.org", PASSWORD, "ip1")
    assert str(wrong.value) == str(unknown.value)


def test_account_is_locked_after_failures_from_many_addresses_even_with_the_right_password(
        db_session):
    create_user(db_session, "ann@example.org", PASSWORD, "admin")
    for attempt in range(throttle.MAX_PER_ACCOUNT):
        with pytest.raises(AccountError):
            sign_in(db_session, "ann@example.org", f"wrong password {attempt}", f"ip{attempt}")
    with pytest.raises(LockedOut) as locked:
        sign_in(db_session, "ann@example.org", PASSWORD, "another-ip")
    assert "Try again in" in str(locked.value)


def test_one_address_guessing_many_accounts_is_locked(db_session):
    for n in range(throttle.MAX_PER_ADDRESS):
        with pytest.raises(AccountError):
            sign_in(db_session, f"user{n}@example.org", "wrong password!", "same-ip")
    with pytest.raises(LockedOut):
        sign_in(db_session, "fresh@example.org", "wrong password!", "same-ip")


def test_lockout_ends_when_failures_leave_the_window(db_session):
    keys = [throttle.account_key("ann@example.org")]
    past = datetime.now(UTC) - throttle.WINDOW - timedelta(seconds=1)
    for _ in range(throttle.MAX_PER_ACCOUNT):
        throttle.record_failure(db_session, keys, now=past)
    assert throttle.lockout(db_session, keys) is None
    for _ in range(throttle.MAX_PER_ACCOUNT):
        throttle.record_failure(db_session, keys)
    lock = throttle.lockout(db_session, keys)
    assert lock is not None and lock.until > datetime.now(UTC)


def test_success_clears_the_account_failures(db_session):
    create_user(db_session, "ann@example.org", PASSWORD, "viewer")
    for _ in range(throttle.MAX_PER_PAIR - 1):
        with pytest.raises(AccountError):
            sign_in(db_session, "ann@example.org", "wrong password!", "ip")
    sign_in(db_session, "ann@example.org", PASSWORD, "ip")
    with pytest.raises(AccountError):
        sign_in(db_session, "ann@example.org", "wrong password!", "ip")
    sign_in(db_session, "ann@example.org", PASSWORD, "ip")  # not locked: the count restarted


def test_api_token_is_stored_only_as_a_digest_and_can_be_revoked(db_session):
    token, secret = create_api_token(db_session, "launch script", "organizer")
    stored = db_session.scalar(select(ApiToken).where(ApiToken.id == token.id))
    assert secret.startswith("aw_") and len(secret) > 40
    assert secret not in stored.token_hash and len(stored.token_hash) == 64
    principal = token_principal(db_session, secret)
    assert principal is not None and principal.role == "organizer" and principal.via_token
    assert token_principal(db_session, secret + "x") is None
    assert revoke_api_token(db_session, token.id)
    assert token_principal(db_session, secret) is None
    assert not revoke_api_token(db_session, token.id)


def test_duplicate_email_and_unknown_role_are_refused(db_session):
    create_user(db_session, "ann@example.org", PASSWORD, "viewer")
    with pytest.raises(AccountError, match="already exists"):
        create_user(db_session, "ANN@example.org", PASSWORD, "viewer")
    with pytest.raises(AccountError, match="role"):
        create_user(db_session, "bob@example.org", PASSWORD, "owner")


def run_cli(settings, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **{k: v for k, v in settings.to_env().items() if v != ""}}
    return subprocess.run([sys.executable, "-m", "actionwave", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_cli_creates_the_first_admin_from_stdin(committed_db, settings):
    result = run_cli(settings, "user", "create", "--email", "first@example.org", "--role",
                     "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "created admin first@example.org" in result.stdout
    with committed_db.session() as session:
        user = session.scalar(select(User).where(User.email == "first@example.org"))
        assert user.role == "admin" and verify_password(PASSWORD, user.password_hash)
    again = run_cli(settings, "user", "create", "--email", "first@example.org",
                    "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_cli_token_prints_a_token_that_authenticates(committed_db, settings):
    result = run_cli(settings, "user", "token", "--name", "ci", "--role", "viewer", stdin="")
    assert result.returncode == 0, result.stderr
    with committed_db.session() as session:
        principal = token_principal(session, result.stdout.strip())
        assert principal is not None and principal.role == "viewer"
