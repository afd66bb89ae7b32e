"""The relay against a real SMTP server: outages, crashes, opt-outs, header injection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.helpers import in_threads, prepare_for
from workflow.mail import SmtpSender
from workflow.models import Notification, NotificationPreference, Partnership, utcnow
from workflow.notifications import notify
from workflow.services.outbox import RelaySettings, backoff, deliver_pending, message_id
from workflow.services.transitions import advance

SETTINGS = RelaySettings(mail_from="ClusterPact <noreply@pact.example>",
                         base_url="https://pact.example", max_attempts=5,
                         first_delay=timedelta(seconds=30), lease=timedelta(minutes=10))


class Clock:
    """The relay's notion of now: real time plus what the test skipped (no sleeping)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self):
        return utcnow() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


class Crash(BaseException):
    """A relay process dying (not an Exception: the relay must not swallow it)."""


class CrashAfterSend:
    """Sends for real, then dies before the relay marks the row, once, at message `at`."""

    def __init__(self, sender: SmtpSender, at: int) -> None:
        self.sender, self.at, self.count = sender, at, 0

    def send(self, message) -> None:
        self.sender.send(message)
        self.count += 1
        if self.count == self.at:
            raise Crash


@pytest.fixture
def draft(make_partnership):
    return make_partnership("draft")


def relay(session, sink, clock, settings=SETTINGS):
    with SmtpSender(sink.host, sink.port, timeout=5) as sender:
        return deliver_pending(session, sender, settings, clock)


def message_ids(sink) -> list[str]:
    return [m["Message-ID"] for m in sink.messages]


def statuses(session) -> dict[str, int]:
    result: dict[str, int] = {}
    for status in session.scalars(select(Notification.email_status)):
        result[status] = result.get(status, 0) + 1
    return result


def test_hundred_changes_during_an_outage_are_all_delivered_once(
        session, make_partnership, make_user, smtp_sink):
    p = make_partnership("negotiation")
    owner, legal = p.owner, make_user("legal")
    prepare_for(session, p, "submit_for_review", owner)
    clock = Clock()
    smtp_sink.stop()  # the mail server is down while the partnership moves
    for i in range(50):
        advance(session, p.id, "submit_for_review", owner)
        advance(session, p.id, "request_changes", legal, comment=f"Round {i}")
        if i % 10 == 0:
            report = relay(session, smtp_sink, clock)
            assert report.sent == 0 and report.retrying > 0
    rows = session.scalars(select(Notification)).all()
    # Two legal advisors (make_partnership's and ours) per submission, the owner per request.
    assert len(rows) == 50 * 2 + 50
    clock.advance(timedelta(seconds=10))
    assert relay(session, smtp_sink, clock).sent == 0  # still backing off: nothing tried

    smtp_sink.start()
    for _ in range(4):  # the backoff of the oldest rows is at most 30s * 2**3
        clock.advance(timedelta(minutes=5))
        relay(session, smtp_sink, clock)
    assert statuses(session) == {"sent": 150}
    ids = message_ids(smtp_sink)
    assert len(ids) == len(set(ids)) == 150
    assert set(ids) == {message_id(r.id, SETTINGS.mail_from) for r in rows}
    clock.advance(timedelta(hours=1))
    assert relay(session, smtp_sink, clock).sent == 0


def test_a_crash_between_send_and_mark_gives_one_duplicate_with_the_same_message_id(
        session, make_user, draft, smtp_sink):
    users = [make_user("coordinator") for _ in range(5)]
    for u in users:
        notify(session, [u], "approved", {"actor_name": "Legal"}, partnership=draft,
               link="/dashboard")
    session.commit()
    clock = Clock()
    with SmtpSender(smtp_sink.host, smtp_sink.port) as sender, pytest.raises(Crash):
        deliver_pending(session, CrashAfterSend(sender, at=3), SETTINGS, clock)
    session.rollback()
    assert len(smtp_sink.messages) == 3
    # The dead relay's batch stays leased: a second relay leaves it alone...
    assert relay(session, smtp_sink, clock).sent == 0
    clock.advance(SETTINGS.lease + timedelta(seconds=1))
    # ...until the lease ends: the unmarked third row again, the last two for the first time.
    assert relay(session, smtp_sink, clock).sent == 3
    ids = message_ids(smtp_sink)
    assert len(ids) == 6 and len(set(ids)) == 5
    (duplicate,) = {i for i in ids if ids.count(i) == 2}
    copies = [m for m in smtp_sink.messages if m["Message-ID"] == duplicate]
    assert copies[0].get_content() == copies[1].get_content()
    assert statuses(session) == {"sent": 5}


def test_gives_up_after_the_last_attempt_and_keeps_the_error(session, make_user, draft,
                                                             smtp_sink):
    user = make_user("coordinator")
    notify(session, [user], "approved", {"actor_name": "L"}, partnership=draft)
    session.commit()
    smtp_sink.stop()
    clock = Clock()
    waits = []
    for attempt in range(1, SETTINGS.max_attempts + 1):
        row_tried_at = clock()
        report = relay(session, smtp_sink, clock)
        row = session.scalars(select(Notification)).one()
        assert row.attempts == attempt
        if attempt < SETTINGS.max_attempts:
            assert report.retrying == 1 and row.email_status == "pending"
            waits.append(row.next_attempt_at - row_tried_at)
            clock.advance(row.next_attempt_at - clock())
    assert [round(w.total_seconds()) for w in waits] == [
        backoff(n, SETTINGS).total_seconds() for n in range(1, SETTINGS.max_attempts)]
    assert backoff(2, SETTINGS) == 2 * backoff(1, SETTINGS) == timedelta(minutes=1)
    assert report.failed == 1 and row.email_status == "failed"
    assert "Connection refused" in row.last_error or "Errno" in row.last_error
    smtp_sink.start()
    clock.advance(timedelta(days=1))
    assert relay(session, smtp_sink, clock).sent == 0 and smtp_sink.messages == []


def test_email_off_for_a_kind_is_skipped_but_stays_in_the_app(session, make_user, draft,
                                                               smtp_sink):
    quiet, loud = make_user("coordinator"), make_user("coordinator")
    session.add(NotificationPreference(user_id=quiet.id, kind="approved", email=False))
    session.commit()
    notify(session, [quiet, loud], "approved", {"actor_name": "L"}, partnership=draft)
    notify(session, [quiet], "changes_requested",
           {"actor_name": "L", "to_stage_label": "Negotiation", "comment": None},
           partnership=draft)
    session.commit()
    report = relay(session, smtp_sink, Clock())
    assert (report.sent, report.skipped) == (2, 1)
    quiet_mail = smtp_sink.to(quiet.email)
    assert len(quiet_mail) == 1 and "requests changes" in quiet_mail[0]["Subject"]
    assert len(smtp_sink.to(loud.email)) == 1
    skipped = session.scalars(select(Notification).where(
        Notification.email_status == "skipped")).one()
    assert skipped.user_id == quiet.id and skipped.read_at is None


def test_deactivated_users_are_skipped(session, make_user, draft, smtp_sink):
    user = make_user("coordinator")
    notify(session, [user], "approved", {"actor_name": "L"}, partnership=draft)
    user.active = False
    session.commit()
    assert relay(session, smtp_sink, Clock()).skipped == 1
    assert smtp_sink.messages == []


def test_crlf_in_a_title_or_name_cannot_add_headers_or_recipients(
        session, make_partnership, make_user, smtp_sink):
    p = make_partnership("draft")
    user = make_user("coordinator")
    evil = "Deal\r\nBcc: victim@example.net\r\nX-Injected: yes"
    # Stored data that bypassed form validation (an import, an old row): still harmless.
    session.execute(update(Partnership).where(Partnership.id == p.id).values(title=evil)
                    .execution_options(synchronize_session=False))
    user.display_name = "Eve\r\nCc: victim@example.net"
    session.commit()
    session.expire_all()
    p = session.get(Partnership, p.id)
    notify(session, [user, "signatory@example.org\r\nBcc: victim@example.net"],
           "submitted_for_review", {"actor_name": "Mallory\nBcc: victim@example.net"},
           partnership=p, link=f"/partnerships/{p.id}")
    session.commit()
    row = session.scalars(select(Notification)).one()
    assert "\r" not in row.subject and "\n" not in row.subject
    assert relay(session, smtp_sink, Clock()).sent == 1
    ((rcpts, message),) = smtp_sink.received
    assert rcpts == [user.email]
    assert message["Bcc"] is None and message["Cc"] is None and message["X-Injected"] is None
    assert "Bcc: victim@example.net" in message["Subject"]  # shown as text, on one line
    assert message["To"].addresses[0].addr_spec == user.email


def test_message_carries_link_message_id_and_auto_submitted(session, make_partnership,
                                                             smtp_sink):
    p = make_partnership("negotiation")
    prepare_for(session, p, "submit_for_review", p.owner)
    advance(session, p.id, "submit_for_review", p.owner)
    relay(session, smtp_sink, Clock())
    (message,) = smtp_sink.messages
    row = session.scalars(select(Notification)).one()
    assert message["Message-ID"] == f"<notification-{row.id}@pact.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"].addresses[0].addr_spec == "noreply@pact.example"
    assert p.reference in message["Subject"]
    assert f"https://pact.example/partnerships/{p.id}" in message.get_content()


def test_a_signatory_without_account_gets_mail_without_a_login_link(
        session, make_partnership, smtp_sink):
    p = make_partnership("approved")
    advance(session, p.id, "send_for_signature", p.owner)
    relay(session, smtp_sink, Clock())
    (message,) = smtp_sink.to("elena@example.org")
    text = message.get_content()
    assert "ready for signature" in message["Subject"]
    assert "will send you the issued PDF" in text and "https://" not in text


def test_two_relays_at_once_send_each_row_once(database, session, make_user, draft,
                                               smtp_sink):
    users = [make_user("coordinator") for _ in range(4)]
    for i in range(60):
        notify(session, [users[i % 4]], "approved", {"actor_name": f"L{i}"},
               partnership=draft)
    session.commit()
    clock = Clock()

    def run():
        with database.sessions() as own:
            relay(own, smtp_sink, clock, RelaySettings(**{**SETTINGS.__dict__,
                                                          "batch_size": 7}))

    assert in_threads(run, 2) == []
    ids = message_ids(smtp_sink)
    assert len(ids) == len(set(ids)) == 60
