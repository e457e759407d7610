"""Notifications and the mail queue.

Everything that tells a person something goes through here:

* :func:`notify` writes an in-app :class:`Notification` and, when the person wants mail for
  that kind at once (the default), an :class:`OutgoingMail` row — both inside the caller's
  transaction, so a rolled-back action leaves neither behind.
* :func:`queue_mail` puts any other mail (confirmation, password reset) in the same queue.
* :func:`deliver_pending_mail` sends the queue after commit: over SMTP when
  ``settings.smtp_url`` is set, otherwise as ``.eml`` files in ``settings.outbox_dir``.
  A failure is recorded on the row and retried later; it never raises, so a mail server
  being down never loses the action that caused the mail.
* :func:`build_daily_digests` folds the day's notifications of "daily" kinds into one mail.

Links: a ``url`` starting with "/" is written into mail bodies as ``{base_url}/path``; the
``{base_url}`` mark is replaced with ``settings.base_url`` when the mail is delivered, since
the code that notifies does not know the site's address.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import secrets
import smtplib
import ssl
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote, urlparse

from civic import pending
from civic.accounts.tables import User
from civic.i18n.runtime import N_
from civic.notify.tables import Delivery, Notification, NotificationPreference, OutgoingMail

log = logging.getLogger(__name__)

BASE_URL_MARK = "{base_url}"
MAX_ATTEMPTS = 10  # a row that failed this often is left for an operator to look at
SMTP_TIMEOUT = 15  # seconds
CLAIM_TIMEOUT = timedelta(minutes=10)  # a sender holding rows longer than this has died


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _absolute(url: str) -> str:
    return f"{BASE_URL_MARK}{url}" if url.startswith("/") else url


def _translator(language: str):
    from civic.i18n.runtime import translator

    return translator(language or "kk")


# --------------------------------------------------------------------------- preferences

# Topics people choose delivery for: a kind "response.answered" belongs to topic "response".
# Modules add theirs with register_topic(); the label is a gettext message id.
NOTIFICATION_KINDS: dict[str, str] = {
    "response": N_("Answers to your requests, appeals and petitions"),
    "account": N_("Your account"),
}


def register_topic(topic: str, label: str) -> None:
    NOTIFICATION_KINDS.setdefault(topic, label)


def topic_of(kind: str) -> str:
    return kind.partition(".")[0]


async def preference_for(user_id: int, kind: str) -> str:
    """The person's delivery choice for ``kind`` (exact kind first, then its topic);
    immediate when they never chose."""
    rows = await NotificationPreference.select(
        NotificationPreference.kind, NotificationPreference.delivery
    ).where((NotificationPreference.user == user_id)
            & NotificationPreference.kind.is_in(list({kind, topic_of(kind)})))
    return _delivery({row["kind"]: row["delivery"] for row in rows}, kind)


def _delivery(chosen: dict[str, str], kind: str) -> str:
    """From one person's choices {kind: delivery}: the exact kind first, then its topic;
    immediate when they never chose."""
    return chosen.get(kind) or chosen.get(topic_of(kind)) or Delivery.IMMEDIATE


async def preferences(user_id: int) -> dict[str, str]:
    """Every explicit choice of the person: {kind: delivery}. Kinds not listed are immediate."""
    rows = await NotificationPreference.select(
        NotificationPreference.kind, NotificationPreference.delivery
    ).where(NotificationPreference.user == user_id)
    return {row["kind"]: row["delivery"] for row in rows}


async def set_preference(user_id: int, kind: str, delivery: str) -> None:
    """Choose immediate, daily or off for one kind (one row per person and kind)."""
    if delivery not in Delivery.ALL:
        raise ValueError(f"delivery must be one of {Delivery.ALL}, got {delivery!r}")
    if not kind or len(kind) > 60:
        raise ValueError("kind must be 1 to 60 characters")
    await NotificationPreference.insert(
        NotificationPreference(user=user_id, kind=kind, delivery=delivery)
    ).on_conflict(
        target=(NotificationPreference.user, NotificationPreference.kind),
        action="DO UPDATE",
        values=[NotificationPreference.delivery],
    )


# --------------------------------------------------------------------------- queue


async def queue_mail(to_address: str, subject: str, body: str) -> OutgoingMail:
    """Queue one plain-text mail; it is sent by :func:`deliver_pending_mail` after commit.

    Runs in the caller's transaction: if that rolls back, the mail is never sent.
    """
    mail = OutgoingMail(to_address=to_address, subject=subject[:300], body=body)
    await mail.save()
    pending.mark(pending.MAIL)
    return mail


async def notify(user_id: int, kind: str, title: str, body: str = "", url: str = "") -> Notification | None:
    """Tell a person something: an in-app notification, and a mail if they want it at once.

    Returns None (and writes nothing) for an unknown or deleted account. With delivery
    "daily" the notification waits for :func:`build_daily_digests`; with "off" no mail at
    all, the in-app notification stays.
    """
    user = (
        await User.select(User.id, User.email, User.deleted_at, User.language)
        .where(User.id == user_id)
        .first()
    )
    if user is None or user["deleted_at"] is not None:
        return None
    delivery = await preference_for(user_id, kind)
    notification = Notification(
        user=user_id, kind=kind, title=title[:300], body=body, url=url[:300], emailed=False
    )
    if delivery == Delivery.IMMEDIATE and user["email"]:
        await queue_mail(user["email"], title, _mail_body(user["language"], [(title, body, url)]))
        notification.emailed = True
    await notification.save()
    return notification


@dataclass(frozen=True)
class Message:
    """One notification for :func:`notify_many`."""

    user_id: int
    kind: str
    title: str
    body: str = ""
    url: str = ""


NOTIFY_CHUNK = 500


async def notify_many(messages: Iterable[Message]) -> int:
    """:func:`notify` for many people at once (an official answer sent to thousands of signers):
    the same rules, in a few queries per 500 people instead of four per person, so the
    answer's transaction stays short. Returns how many notifications were written."""
    messages = [m for m in messages]
    if not messages:
        return 0
    user_ids = sorted({m.user_id for m in messages})
    kinds = sorted({k for m in messages for k in (m.kind, topic_of(m.kind))})
    people: dict[int, dict] = {}
    chosen: dict[int, dict[str, str]] = defaultdict(dict)
    for start in range(0, len(user_ids), NOTIFY_CHUNK):
        chunk = user_ids[start:start + NOTIFY_CHUNK]
        for row in await User.select(User.id, User.email, User.deleted_at, User.language).where(User.id.is_in(chunk)):
            people[row["id"]] = row
        for row in await NotificationPreference.select(
                NotificationPreference.user, NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user.is_in(chunk) & NotificationPreference.kind.is_in(kinds)):
            chosen[row["user"]][row["kind"]] = row["delivery"]
    notifications: list[Notification] = []
    mails: list[OutgoingMail] = []
    for message in messages:
        person = people.get(message.user_id)
        if person is None or person["deleted_at"] is not None:
            continue
        emailed = _delivery(chosen[message.user_id], message.kind) == Delivery.IMMEDIATE and bool(person["email"])
        if emailed:
            mails.append(OutgoingMail(to_address=person["email"], subject=message.title[:300],
                                      body=_mail_body(person["language"], [(message.title, message.body, message.url)])))
        notifications.append(Notification(user=message.user_id, kind=message.kind, title=message.title[:300],
                                          body=message.body, url=message.url[:300], emailed=emailed))
    for start in range(0, len(notifications), NOTIFY_CHUNK):
        await Notification.insert(*notifications[start:start + NOTIFY_CHUNK])
    for start in range(0, len(mails), NOTIFY_CHUNK):
        await OutgoingMail.insert(*mails[start:start + NOTIFY_CHUNK])
    if mails:
        pending.mark(pending.MAIL)
    return len(notifications)


def _long_date(day, language: str) -> str:
    try:
        from babel.dates import format_date

        return format_date(day, format="long", locale=language)
    except Exception:  # an unknown locale must not stop a notification
        return day.isoformat()


async def tell(user_ids: Iterable[int], kind: str, title_msgid: str, body_msgid: str, url: str, **params) -> int:
    """Tell each person something in their own language (inside the caller's transaction), the
    one way a module notifies people. A parameter ending in ``_msgid`` is translated (and named
    without the suffix); a date is written out in the person's language; ``organisation_names``
    (a row with name_kk/name_ru/name_en) gives ``organisation``; ``body`` is used when
    ``body_msgid`` is empty. Returns how many notifications were written."""
    from datetime import date

    from civic.i18n.runtime import localized, translator

    user_ids = sorted(set(user_ids))
    if not user_ids:
        return 0
    languages: dict[int, str] = {}
    for start in range(0, len(user_ids), NOTIFY_CHUNK):
        chunk = user_ids[start:start + NOTIFY_CHUNK]
        languages.update({r["id"]: r["language"] for r in await User.select(User.id, User.language).where(
            User.id.is_in(chunk))})
    messages = []
    for user_id in user_ids:
        language = languages.get(user_id) or "kk"
        t = translator(language)
        values = {}
        for key, value in params.items():
            if key == "organisation_names":
                values["organisation"] = localized(value, "name", language) if value else ""
                continue
            if key.endswith("_msgid"):
                value = t.gettext(value)
            elif isinstance(value, date) and not isinstance(value, datetime):
                value = _long_date(value, language)
            values[key.removesuffix("_msgid")] = value
        body = t.gettext(body_msgid) % values if body_msgid else values.get("body", "")
        messages.append(Message(user_id, kind, t.gettext(title_msgid) % values, body.strip(), url))
    return await notify_many(messages)


def _mail_body(language: str, items: list[tuple[str, str, str]], intro: str = "") -> str:
    t = _translator(language)
    parts = [intro] if intro else []
    for title, body, url in items:
        block = [title] if intro else []
        if body:
            block.append(body)
        if url:
            block.append(_absolute(url))
        parts.append("\n".join(block))
    parts.append(
        "-- \n"
        + t.gettext("You receive this because of your notification settings in Ashyq.")
        + "\n"
        + _absolute("/account/notifications")
    )
    return "\n\n".join(p for p in parts if p)


# --------------------------------------------------------------------------- in-app


async def unread_count(user_id: int) -> int:
    return await Notification.count().where(
        (Notification.user == user_id) & Notification.read_at.is_null()
    )


async def list_for(user_id: int, limit: int = 20, offset: int = 0) -> list[dict]:
    """The person's notifications, newest first."""
    return await (
        Notification.select()
        .where(Notification.user == user_id)
        .order_by(Notification.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )


async def mark_read(user_id: int, notification_ids: list[int] | None = None) -> None:
    """Mark some (or, with None, all) of the person's unread notifications read."""
    where = (Notification.user == user_id) & Notification.read_at.is_null()
    if notification_ids is not None:
        ids = [int(i) for i in notification_ids]
        if not ids:
            return
        where = where & Notification.id.is_in(ids)
    await Notification.update({Notification.read_at: _now()}).where(where)


# --------------------------------------------------------------------------- digests


async def build_daily_digests(now: datetime | None = None) -> int:
    """One mail per person with the last 24 hours' notifications of their "daily" kinds.

    Notifications put in a digest are marked ``emailed``; returns the number of mails queued.
    """
    from civic.db import write_transaction
    from civic.runtime import current_engine

    now = now or _now()
    since = now - timedelta(hours=24)
    prefs = await NotificationPreference.select(
        NotificationPreference.user, NotificationPreference.kind
    ).where(NotificationPreference.delivery == Delivery.DAILY)
    kinds_by_user: dict[int, list[str]] = defaultdict(list)
    for row in prefs:
        kinds_by_user[row["user"]].append(row["kind"])

    queued = 0
    for user_id, kinds in kinds_by_user.items():
        async with write_transaction(current_engine()):
            user = (
                await User.select(User.email, User.language, User.deleted_at)
                .where(User.id == user_id)
                .first()
            )
            if user is None or user["deleted_at"] is not None or not user["email"]:
                continue
            items = await (
                Notification.select(Notification.id, Notification.title, Notification.body, Notification.url)
                .where(
                    (Notification.user == user_id)
                    & Notification.kind.is_in(kinds)
                    & (Notification.emailed == False)  # noqa: E712
                    & (Notification.created_at >= since)
                    & (Notification.created_at <= now)
                )
                .order_by(Notification.id)
            )
            if not items:
                continue
            t = _translator(user["language"])
            intro = t.ngettext(
                "%(num)d new notification in Ashyq:", "%(num)d new notifications in Ashyq:", len(items)
            ) % {"num": len(items)}
            body = _mail_body(user["language"], [(i["title"], i["body"], i["url"]) for i in items], intro)
            await queue_mail(user["email"], t.gettext("Your Ashyq digest"), body)
            await Notification.update({Notification.emailed: True}).where(
                Notification.id.is_in([i["id"] for i in items])
            )
            queued += 1
    return queued


# --------------------------------------------------------------------------- delivery


def _host(base_url: str) -> str:
    return urlparse(base_url).hostname or "localhost"


def build_message(settings, mail: dict) -> EmailMessage:
    """The RFC 5322 message for one queued row (plain text, UTF-8)."""
    host = _host(settings.base_url)
    message = EmailMessage()
    message["From"] = f"Ashyq <noreply@{host}>"
    message["To"] = mail["to_address"]
    message["Subject"] = mail["subject"]
    message["Date"] = email.utils.format_datetime(_now())
    message["Message-ID"] = email.utils.make_msgid(idstring=f"mail{mail['id']}", domain=host)
    message.set_content(mail["body"].replace(BASE_URL_MARK, settings.base_url), charset="utf-8")
    return message


def _write_eml(outbox: Path, mail_id: int, message: EmailMessage) -> None:
    outbox.mkdir(parents=True, exist_ok=True)
    final = outbox / f"mail-{mail_id:08d}.eml"
    temporary = outbox / f".mail-{mail_id:08d}.eml.tmp"
    temporary.write_bytes(message.as_bytes())
    os.replace(temporary, final)


def _send_smtp(smtp_url: str, messages: list[EmailMessage]) -> list[Exception | None]:
    """Send over one connection; one result per message (None when sent)."""
    parsed = urlparse(smtp_url)
    host = parsed.hostname or "localhost"
    user = unquote(parsed.username) if parsed.username else None
    password = unquote(parsed.password) if parsed.password else None
    if parsed.scheme == "smtps":
        server = smtplib.SMTP_SSL(host, parsed.port or 465, timeout=SMTP_TIMEOUT, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(host, parsed.port or 25, timeout=SMTP_TIMEOUT)
    results: list[Exception | None] = []
    try:
        server.ehlo()
        if parsed.scheme == "smtp" and server.has_extn("starttls"):
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
        if user:
            server.login(user, password or "")
        for message in messages:
            try:
                server.send_message(message)
                results.append(None)
            except (smtplib.SMTPException, OSError) as exc:
                results.append(exc)
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()
    return results


def _deliverable():
    return OutgoingMail.sent_at.is_null() & (OutgoingMail.attempts < MAX_ATTEMPTS)


async def _claim(limit: int) -> list[dict]:
    """Take up to ``limit`` unsent rows for this sender alone.

    The claim is one conditional UPDATE, so of two senders racing for a row only one gets
    it: the web process after every write and ``civic worker`` can run side by side.
    """
    moment = _now()
    candidates = await (
        OutgoingMail.select(OutgoingMail.id)
        .where(_deliverable() & (OutgoingMail.claimed_at.is_null() | (OutgoingMail.claimed_at < moment - CLAIM_TIMEOUT)))
        .order_by(OutgoingMail.attempts)
        .order_by(OutgoingMail.id)
        .limit(limit)
    )
    if not candidates:
        return []
    token = secrets.token_hex(16)
    ids = [row["id"] for row in candidates]
    await OutgoingMail.update({OutgoingMail.claim_token: token, OutgoingMail.claimed_at: moment}).where(
        OutgoingMail.id.is_in(ids)
        & _deliverable()
        & (OutgoingMail.claimed_at.is_null() | (OutgoingMail.claimed_at < moment - CLAIM_TIMEOUT))
    )
    return await (
        OutgoingMail.select()
        .where(OutgoingMail.claim_token == token)
        .order_by(OutgoingMail.attempts)
        .order_by(OutgoingMail.id)
    )


async def deliver_pending_mail(settings, limit: int = 100) -> int:
    """Send queued mail; returns how many were sent. Never raises for a delivery failure.

    On success ``sent_at`` is set; on failure ``attempts`` goes up and ``last_error`` keeps
    the reason, and the row waits for the next run (up to :data:`MAX_ATTEMPTS`).
    """
    rows = await _claim(limit)
    if not rows:
        return 0
    messages: list[EmailMessage | None] = []
    results: list[Exception | None] = []
    for row in rows:
        try:
            messages.append(build_message(settings, row))
            results.append(None)
        except Exception as exc:  # a malformed address or header: keep the row, say why
            messages.append(None)
            results.append(exc)

    ready = [(i, m) for i, m in enumerate(messages) if m is not None]
    if settings.smtp_url:
        try:
            sent = await asyncio.to_thread(_send_smtp, settings.smtp_url, [m for _, m in ready])
        except Exception as exc:  # connection or login failed: every message failed
            sent = [exc] * len(ready)
        for (index, _), outcome in zip(ready, sent):
            results[index] = outcome
    else:
        for index, message in ready:
            try:
                await asyncio.to_thread(_write_eml, settings.outbox_dir, rows[index]["id"], message)
            except Exception as exc:
                results[index] = exc

    delivered = 0
    for row, outcome in zip(rows, results):
        if outcome is None:
            await OutgoingMail.update({OutgoingMail.sent_at: _now(), OutgoingMail.last_error: None}).where(
                OutgoingMail.id == row["id"]
            )
            delivered += 1
        else:
            log.warning("mail %s to %s not sent: %s", row["id"], row["to_address"], outcome)
            await OutgoingMail.update(
                {
                    OutgoingMail.attempts: OutgoingMail.attempts + 1,
                    OutgoingMail.last_error: f"{type(outcome).__name__}: {outcome}"[:2000],
                    OutgoingMail.claim_token: None,
                    OutgoingMail.claimed_at: None,
                }
            ).where(OutgoingMail.id == row["id"])
    return delivered
