"""Notifications, delivery choices, daily digests and the mail queue (civic.notify.services)."""

from __future__ import annotations

import socket
import uuid
from datetime import datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser

import pytest

from civic.accounts.tables import User
from civic.db import write_transaction
from civic.notify import services
from civic.notify.tables import Delivery, Notification, OutgoingMail


async def make_user(**values) -> User:
    tag = uuid.uuid4().hex[:12]
    user = User(email=f"n-{tag}@example.kz", display_name=f"Person {tag}", language="en", oidc_subject=None, **values)
    await user.save()
    return user


async def mails_to(address: str) -> list[dict]:
    return await OutgoingMail.select().where(OutgoingMail.to_address == address).order_by(OutgoingMail.id)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_immediate_by_default_sends_mail(database):
    user = await make_user()
    note = await services.notify(user.id, "ideas.answered", "Your idea was answered", "Read it", "/ideas/1")
    assert note is not None and note.emailed is True
    mails = await mails_to(user.email)
    assert len(mails) == 1
    assert mails[0]["subject"] == "Your idea was answered"
    assert "Read it" in mails[0]["body"] and "{base_url}/ideas/1" in mails[0]["body"]
    assert await services.unread_count(user.id) == 1


async def test_preference_choices(database):
    user = await make_user()
    assert await services.preferences(user.id) == {}
    await services.set_preference(user.id, "a.kind", Delivery.OFF)
    await services.set_preference(user.id, "b.kind", Delivery.DAILY)
    await services.set_preference(user.id, "a.kind", Delivery.DAILY)  # upsert, not a second row
    assert await services.preferences(user.id) == {"a.kind": "daily", "b.kind": "daily"}
    await services.set_preference(user.id, "a.kind", Delivery.OFF)
    assert (await services.preferences(user.id))["a.kind"] == "off"
    with pytest.raises(ValueError):
        await services.set_preference(user.id, "a.kind", "weekly")

    # off: in-app only; daily: in-app now, mail later
    off = await services.notify(user.id, "a.kind", "Off kind")
    daily = await services.notify(user.id, "b.kind", "Daily kind")
    assert off is not None and daily is not None
    assert await mails_to(user.email) == []
    assert await services.unread_count(user.id) == 2


async def test_deleted_user_gets_nothing(database):
    user = await make_user(deleted_at=datetime.now(timezone.utc))
    assert await services.notify(user.id, "x", "Hello") is None
    assert await services.notify(10**9, "x", "Hello") is None
    assert await Notification.count().where(Notification.user == user.id) == 0


async def test_list_and_mark_read(database):
    user = await make_user()
    await services.set_preference(user.id, "quiet", Delivery.OFF)
    ids = [(await services.notify(user.id, "quiet", f"N{i}")).id for i in range(3)]
    listed = await services.list_for(user.id, limit=2, offset=0)
    assert [n["title"] for n in listed] == ["N2", "N1"]
    await services.mark_read(user.id, [ids[0]])
    assert await services.unread_count(user.id) == 2
    other = await make_user()
    await services.mark_read(other.id, None)  # someone else's "all" touches nothing of ours
    assert await services.unread_count(user.id) == 2
    await services.mark_read(user.id, None)
    assert await services.unread_count(user.id) == 0


async def test_daily_digest_groups_one_mail(database):
    user = await make_user()
    await services.set_preference(user.id, "ideas.new", Delivery.DAILY)
    await services.set_preference(user.id, "petitions.new", Delivery.DAILY)
    await services.set_preference(user.id, "muted", Delivery.OFF)
    await services.notify(user.id, "ideas.new", "First idea", url="/ideas/7")
    await services.notify(user.id, "petitions.new", "A petition")
    await services.notify(user.id, "muted", "Never mailed")
    old = await services.notify(user.id, "ideas.new", "Too old")
    await Notification.update(
        {Notification.created_at: datetime.now(timezone.utc) - timedelta(hours=30)}
    ).where(Notification.id == old.id)

    now = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert await services.build_daily_digests(now) >= 1
    mails = await mails_to(user.email)
    assert len(mails) == 1
    assert mails[0]["subject"] == "Your Ashyq digest"
    body = mails[0]["body"]
    assert "First idea" in body and "A petition" in body and "{base_url}/ideas/7" in body
    assert "Never mailed" not in body and "Too old" not in body
    assert "2 new notifications" in body

    # a second run finds nothing new for this person
    await services.build_daily_digests(now)
    assert len(await mails_to(user.email)) == 1
    emailed = await Notification.select(Notification.title).where(
        (Notification.user == user.id) & (Notification.emailed == True)  # noqa: E712
    )
    assert {row["title"] for row in emailed} == {"First idea", "A petition"}


async def test_outbox_eml_written(database, settings, tmp_path):
    user = await make_user()
    await services.queue_mail(user.email, "Растаңыз: Ashyq", "Сәлем!\n{base_url}/account/confirm?t=1")
    local = settings.with_changes(data_dir=tmp_path, base_url="https://ashyq.almaty.kz", smtp_url=None)
    assert await services.deliver_pending_mail(local, limit=100000) >= 1
    row = (await mails_to(user.email))[0]
    assert row["sent_at"] is not None and row["attempts"] == 0
    path = tmp_path / "outbox" / f"mail-{row['id']:08d}.eml"
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert message["To"] == user.email
    assert message["Subject"] == "Растаңыз: Ashyq"
    assert message["From"] == "Ashyq <noreply@ashyq.almaty.kz>"
    content = message.get_content()
    assert "Сәлем!" in content and "https://ashyq.almaty.kz/account/confirm?t=1" in content


async def test_failing_smtp_keeps_row(database, settings, tmp_path):
    user = await make_user()
    await services.queue_mail(user.email, "Hello", "Body")
    failing = settings.with_changes(data_dir=tmp_path, smtp_url=f"smtp://u:p@127.0.0.1:{closed_port()}")
    await services.deliver_pending_mail(failing, limit=100000)  # no exception
    row = (await mails_to(user.email))[0]
    assert row["sent_at"] is None
    assert row["attempts"] == 1
    assert row["last_error"]
    assert not (tmp_path / "outbox").exists()


async def test_queue_in_rolled_back_transaction_leaves_no_row(database):
    user = await make_user()

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with write_transaction(database):
            await services.queue_mail(user.email, "Never", "Never")
            await services.notify(user.id, "k", "Never either")
            assert len(await mails_to(user.email)) == 2  # visible inside the transaction
            raise Boom
    assert await mails_to(user.email) == []
    assert await Notification.count().where(Notification.user == user.id) == 0


async def test_concurrent_senders_send_each_mail_once(database, settings, tmp_path, monkeypatch):
    """The web process after each write and the worker may deliver at the same moment."""
    import asyncio

    user = await make_user()
    for number in range(12):
        await services.queue_mail(user.email, f"Mail {number}", "Body")
    written: list[int] = []
    real_write = services._write_eml

    def counting_write(outbox, mail_id, message):
        written.append(mail_id)
        real_write(outbox, mail_id, message)

    monkeypatch.setattr(services, "_write_eml", counting_write)
    local = settings.with_changes(data_dir=tmp_path, smtp_url=None)
    results = await asyncio.gather(*(services.deliver_pending_mail(local, limit=100000) for _ in range(4)))
    ours = {row["id"] for row in await mails_to(user.email)}
    sent_ours = [mail_id for mail_id in written if mail_id in ours]
    assert sorted(sent_ours) == sorted(ours)  # every mail once, none twice
    assert sum(results) >= len(ours)
    assert all(row["sent_at"] is not None for row in await mails_to(user.email))


async def test_abandoned_claim_is_taken_over(database, settings, tmp_path):
    user = await make_user()
    mail = await services.queue_mail(user.email, "Stuck", "Body")
    stale = datetime.now(timezone.utc) - services.CLAIM_TIMEOUT - timedelta(minutes=1)
    await OutgoingMail.update({OutgoingMail.claim_token: "dead-sender", OutgoingMail.claimed_at: stale}).where(
        OutgoingMail.id == mail.id)
    fresh = await services.queue_mail(user.email, "Held", "Body")
    await OutgoingMail.update({OutgoingMail.claim_token: "busy-sender",
                               OutgoingMail.claimed_at: datetime.now(timezone.utc)}).where(OutgoingMail.id == fresh.id)
    await services.deliver_pending_mail(settings.with_changes(data_dir=tmp_path, smtp_url=None), limit=100000)
    rows = {row["subject"]: row for row in await mails_to(user.email)}
    assert rows["Stuck"]["sent_at"] is not None  # the dead sender's row went out
    assert rows["Held"]["sent_at"] is None  # a live sender's row is left to it


async def test_notify_many_follows_each_persons_choices(database):
    """The bulk path used when an answer goes to thousands of signers gives what notify() gives."""
    from datetime import datetime, timezone

    immediate, daily, off, gone = [await make_user() for _ in range(4)]
    await services.set_preference(daily.id, "petitions", Delivery.DAILY)  # the topic decides
    await services.set_preference(off.id, "petitions.answered", Delivery.OFF)
    await User.update({User.deleted_at: datetime.now(timezone.utc)}).where(User.id == gone.id)
    written = await services.notify_many(
        [services.Message(u.id, "petitions.answered", "Answered", "The answer", "/petitions/x")
         for u in (immediate, daily, off, gone)])
    assert written == 3
    for person, mails in ((immediate, 1), (daily, 0), (off, 0), (gone, 0)):
        assert len(await mails_to(person.email)) == mails
    notes = {r["user"]: r for r in await Notification.select().where(
        Notification.user.is_in([immediate.id, daily.id, off.id, gone.id]))}
    assert set(notes) == {immediate.id, daily.id, off.id}
    assert notes[immediate.id]["emailed"] is True and notes[daily.id]["emailed"] is False
    assert await services.notify_many([]) == 0
