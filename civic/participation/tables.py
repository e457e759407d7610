"""Participation rows every module shares, keyed by the subject id a record has in the search
index (``"ideas:42"``). "One per person" rules are unique indexes (created in the follow-up
migration), so the database itself refuses a second support, follow or report."""

from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from civic.accounts.tables import User
from civic.territory.tables import Organisation

SUBJECT_LENGTH = 80


class Support(Table, tablename="participation_support"):
    """A person supports (votes for) a subject: unique index participation_support_once."""

    subject = Varchar(length=SUBJECT_LENGTH)
    user = ForeignKey(User, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Follow(Table, tablename="participation_follow"):
    """A person hears of what happens to a subject: unique index participation_follow_once."""

    subject = Varchar(length=SUBJECT_LENGTH)
    user = ForeignKey(User, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Comment(Table, tablename="participation_comment"):
    """A comment in a subject's discussion, or a reply (one level: a reply to a reply joins its
    thread). ``kind`` "answer" marks an official answer shown in the thread."""

    subject = Varchar(length=SUBJECT_LENGTH)
    parent = ForeignKey("self", null=True)
    author = ForeignKey(User, null=True, index=True)
    kind = Varchar(length=20, default="comment")
    body = Text()
    visibility = Varchar(length=10, default="visible")  # visible, pending, hidden
    hidden_reason = Varchar(length=20, default="")
    hidden_note = Text(default="")
    hidden_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    edited_at = Timestamptz(null=True, default=None)


class Flag(Table, tablename="participation_flag"):
    """A report that an item breaks the rules. ``target_kind`` is "comment" for a comment here,
    else the module's kind ("ideas.idea"); ``subject`` is the record the item belongs to. One
    report per person and item: unique index participation_flag_once. A report raised by a rule
    (a burst of signatures) has no reporter."""

    target_kind = Varchar(length=30)
    target_id = Integer()
    subject = Varchar(length=SUBJECT_LENGTH, default="", index=True)
    reporter = ForeignKey(User, null=True)
    reason = Varchar(length=20)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    resolved_at = Timestamptz(null=True, default=None, index=True)
    resolution = Varchar(length=10, default="")  # hidden, kept


class ModerationEntry(Table, tablename="participation_moderation_log"):
    """The public moderation log: what, when and why. The moderator is kept for the audit of
    the organisation and never shown publicly."""

    target_kind = Varchar(length=30)
    target_id = Integer()
    subject = Varchar(length=SUBJECT_LENGTH, default="", index=True)
    action = Varchar(length=20)  # hidden, restored, approved, rejected, …
    reason = Varchar(length=30, default="")
    note = Text(default="")
    moderator = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    organisation = ForeignKey(Organisation, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
