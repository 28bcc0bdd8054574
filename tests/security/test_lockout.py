"""Finding: login lockout counted per account only, so anyone could lock an organizer out by
failing their logins on purpose. Now failures count per account and address: the attacker's
address is locked, the organizer's is not; a guess spread over many addresses locks the account,
but not at the addresses it recently signed in from."""

from __future__ import annotations

import pytest

from actionwave.accounts import throttle
from actionwave.accounts.services import AccountError, LockedOut, sign_in
from tests.organizer_support import PASSWORD, sqlite_services, store  # noqa: F401

EMAIL = "organizer@example.org"


def test_failing_someones_logins_on_purpose_does_not_lock_them_out(store):  # noqa: F811
    with store.session() as session:
        for _ in range(10):
            with pytest.raises(AccountError):
                sign_in(session, EMAIL, "not the password", "attacker")
        with pytest.raises(LockedOut):
            sign_in(session, EMAIL, PASSWORD, "attacker")  # even with the right password
        user, _sid = sign_in(session, EMAIL, PASSWORD, "organizers-office")
        assert user.email == EMAIL


def test_a_spread_guess_locks_the_account_except_at_its_recent_good_addresses(store):  # noqa: F811
    with store.session() as session:
        sign_in(session, EMAIL, PASSWORD, "home")  # a good address, remembered
        for n in range(throttle.MAX_PER_ACCOUNT):
            with pytest.raises(AccountError):
                sign_in(session, EMAIL, "not the password", f"botnet-{n}")
        with pytest.raises(LockedOut):
            sign_in(session, EMAIL, PASSWORD, "a-new-cafe")
        user, _sid = sign_in(session, EMAIL, PASSWORD, "home")
        assert user.email == EMAIL
