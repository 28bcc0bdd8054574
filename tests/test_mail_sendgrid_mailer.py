"""The SendGrid mailer, through the official client, against the local /v3/mail/send stub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actionwave.core.channels import OutgoingMail, Permanent, Retryable, SendOutcome
from actionwave.mail import make_mailer
from actionwave.mail.outbox_mailer import DevOutboxMailer
from actionwave.mail.sendgrid_mailer import (
    SUBSTITUTION_BUDGET,
    SendGridMailer,
    build_requests,
    retry_after,
)
from actionwave.platform.config import Settings
from tests.stubs.sendgrid import API_KEY, SendGridStub, schema_errors, sendgrid_stub

MAIL_FROM = "Actionwave <actions@example.org>"


@pytest.fixture
def stub() -> Iterator[SendGridStub]:
    with sendgrid_stub() as running:
        yield running


def mailer_for(stub: SendGridStub, tmp_path: Path, timeout: float = 5.0) -> SendGridMailer:
    settings = Settings.from_env({}, sendgrid_api_key=API_KEY, sendgrid_api_host=stub.url,
                                 instance_path=tmp_path, secret_key="x", mail_from=MAIL_FROM)
    return SendGridMailer(settings, timeout=timeout)


def mail(n: int, text: str | None = None) -> OutgoingMail:
    return OutgoingMail(key=f"key-{n}", to=f"person{n}@example.com", subject=f"Subject {n}",
                        text=text or f"Hello {n}", to_name=f"Person {n}",
                        headers={"List-Unsubscribe": f"<https://example.org/u/{n}>"})


def test_factory_picks_sendgrid_with_a_key_and_the_outbox_without(tmp_path: Path) -> None:
    base = {"instance_path": tmp_path, "secret_key": "x"}
    assert isinstance(make_mailer(Settings.from_env({}, **base)), DevOutboxMailer)
    keyed = Settings.from_env({}, sendgrid_api_key="SG.k", mail_from=MAIL_FROM, **base)
    assert isinstance(make_mailer(keyed), SendGridMailer)


def test_batch_with_different_bodies_goes_in_one_request(stub: SendGridStub,
                                                         tmp_path: Path) -> None:
    message_id = mailer_for(stub, tmp_path).send([mail(n) for n in range(50)])

    assert message_id and message_id.startswith("stub")
    assert sum(stub.statuses.values()) == 1
    accepted = {a.key: a for a in stub.accepted}
    assert len(accepted) == 50
    assert accepted["key-7"].text == "Hello 7"
    assert accepted["key-7"].custom_args == {"aw_key": "key-7"}
    assert accepted["key-7"].headers["List-Unsubscribe"] == "<https://example.org/u/7>"


def test_oversized_body_gets_its_own_request(stub: SendGridStub, tmp_path: Path) -> None:
    big = "x" * (SUBSTITUTION_BUDGET + 1)
    mailer_for(stub, tmp_path).send([mail(1), mail(2, big), mail(3)])

    assert stub.statuses[202] == 2
    assert {a.key: a.text for a in stub.accepted}["key-2"] == big


def test_429_is_retryable_after_the_retry_after_header(stub: SendGridStub,
                                                       tmp_path: Path) -> None:
    stub.fail_next(429)
    with pytest.raises(Retryable) as caught:
        mailer_for(stub, tmp_path).send([mail(1)])
    assert caught.value.after == 1.0
    assert stub.accepted == []


def test_rate_limit_reset_header_gives_the_wait_when_retry_after_is_absent() -> None:
    assert retry_after({"X-RateLimit-Reset": "1010"}, now=1000.0) == 10.0
    assert retry_after({}, now=1000.0) is None


def test_server_errors_are_retryable(stub: SendGridStub, tmp_path: Path) -> None:
    stub.fail_next(500)
    with pytest.raises(Retryable, match="internal server error"):
        mailer_for(stub, tmp_path).send([mail(1)])


@pytest.mark.parametrize(("status", "reason"), [
    (400, "invalid request"),
    (401, "authorization grant is invalid"),
    (413, "content too large"),
])
def test_client_errors_are_permanent_with_sendgrids_reason(stub: SendGridStub, tmp_path: Path,
                                                           status: int, reason: str) -> None:
    stub.fail_next(status)
    with pytest.raises(Permanent, match=reason):
        mailer_for(stub, tmp_path).send([mail(1)])


def test_malformed_personalization_is_permanent_naming_the_field(stub: SendGridStub,
                                                                 tmp_path: Path) -> None:
    broken = OutgoingMail(key="k", to="", subject="s", text="t")
    with pytest.raises(Permanent, match=r"SendGrid 400: .*\(personalizations\.0\.to\.0\.email\)"):
        mailer_for(stub, tmp_path).send([broken])
    assert stub.invalid  # refused by SendGrid's own schema, not by our idea of it


def test_sandbox_check_is_validated_and_delivers_nothing(stub: SendGridStub,
                                                         tmp_path: Path) -> None:
    assert mailer_for(stub, tmp_path).check("ops@example.org") == 200
    assert (stub.sandboxed, stub.accepted, stub.invalid) == (1, [], [])


@settings(max_examples=300, deadline=None)
@given(batch=st.lists(st.builds(
    OutgoingMail, key=st.text(min_size=1, max_size=40), to=st.emails(),
    subject=st.text(min_size=1, max_size=200), text=st.text(min_size=1, max_size=12_000),
    to_name=st.none() | st.text(max_size=60), html=st.none() | st.text(),
    reply_to=st.none() | st.emails(), headers=st.dictionaries(
        st.sampled_from(["List-Unsubscribe", "List-Unsubscribe-Post"]), st.text(max_size=80)),
    category=st.sampled_from(["action", "confirmation", "letter", "wave", "reminder"])),
    min_size=1, max_size=30))
def test_every_body_the_mailer_builds_meets_sendgrids_schema(batch: list[OutgoingMail]) -> None:
    for body in build_requests(batch, "actions@example.org", "Actionwave"):
        assert schema_errors(body) == []


def test_wrong_api_key_is_permanent(stub: SendGridStub, tmp_path: Path) -> None:
    stub.api_key = "SG.other"
    with pytest.raises(Permanent, match="401"):
        mailer_for(stub, tmp_path).send([mail(1)])


def test_failure_after_a_first_request_reports_the_accepted_keys(stub: SendGridStub,
                                                                 tmp_path: Path) -> None:
    big = "y" * (SUBSTITUTION_BUDGET + 1)
    stub.fail_next(202)  # the shared-body request goes through,
    stub.fail_next(500)  # the oversized mail's own request fails
    with pytest.raises(Retryable) as caught:
        mailer_for(stub, tmp_path).send([mail(1), mail(2, big)])
    assert caught.value.accepted == ("key-1",)
    assert [a.key for a in stub.accepted] == ["key-1"]


def test_timeout_is_retryable_and_in_doubt(stub: SendGridStub, tmp_path: Path) -> None:
    stub.mode = "drop"
    with pytest.raises(Retryable) as caught:
        mailer_for(stub, tmp_path, timeout=1.0).send([mail(1)])
    assert caught.value.in_doubt


def test_refused_connection_is_retryable_and_not_in_doubt(tmp_path: Path) -> None:
    settings = Settings.from_env({}, sendgrid_api_key=API_KEY, instance_path=tmp_path,
                                 sendgrid_api_host="http://127.0.0.1:9", secret_key="x",
                                 mail_from=MAIL_FROM)
    with pytest.raises(Retryable) as caught:
        SendGridMailer(settings).send([mail(1)])
    assert not caught.value.in_doubt


def test_lookup_finds_a_dropped_send_by_its_key(stub: SendGridStub, tmp_path: Path) -> None:
    mailer = mailer_for(stub, tmp_path, timeout=1.0)
    stub.mode = "drop"
    with pytest.raises(Retryable):
        mailer.send([mail(1)])
    stub.mode = "ok"
    assert mailer.lookup("key-1") is SendOutcome.ACCEPTED
    assert mailer.lookup("key-2") is SendOutcome.NOT_FOUND


def test_lookup_is_unknown_when_the_activity_api_refuses(stub: SendGridStub,
                                                         tmp_path: Path) -> None:
    stub.api_key = "SG.other"
    assert mailer_for(stub, tmp_path).lookup("key-1") is SendOutcome.UNKNOWN


def test_stub_per_second_cap_answers_429(stub: SendGridStub, tmp_path: Path) -> None:
    stub.per_second_cap = 2
    mailer = mailer_for(stub, tmp_path)
    outcomes = []
    for n in range(6):
        try:
            mailer.send([mail(n)])
            outcomes.append("ok")
        except Retryable:
            outcomes.append("429")
    assert "429" in outcomes
    assert stub.max_mails_per_second() <= 2
