"""In-app notifications, each person's delivery choices, and the mail queue."""

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from civic.accounts.tables import User


class Delivery:
    IMMEDIATE = "immediate"
    DAILY = "daily"
    OFF = "off"
    ALL = (IMMEDIATE, DAILY, OFF)


class Notification(Table, tablename="civic_notification"):
    user = ForeignKey(User, index=True)
    kind = Varchar(length=60)
    title = Varchar(length=300)
    body = Text(default="")
    url = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)
    emailed = Boolean(default=False)


class NotificationPreference(Table, tablename="civic_notification_preference"):
    user = ForeignKey(User)
    kind = Varchar(length=60)
    delivery = Varchar(length=10, default=Delivery.IMMEDIATE)
    # one choice per kind: unique index in the migration


class OutgoingMail(Table, tablename="civic_outgoing_mail"):
    """Written in the same transaction as the action; sent after commit, retried on failure."""

    to_address = Varchar(length=254)
    subject = Varchar(length=300)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None, index=True)
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
    # a sender claims rows before sending, so concurrent senders never send one mail twice;
    # a claim older than CLAIM_TIMEOUT is treated as abandoned (the sender died)
    claim_token = Varchar(length=32, null=True, default=None)
    claimed_at = Timestamptz(null=True, default=None)
