"""Official responses: one engine for every module that asks the akimat for an answer."""

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from civic.accounts.tables import User
from civic.territory.tables import Organisation


class ResponseState:
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    FORWARDED = "forwarded"
    EXTENDED = "extended"
    ANSWERED = "answered"
    CLOSED = "closed"
    OPEN = (RECEIVED, ACKNOWLEDGED, IN_PROGRESS, FORWARDED, EXTENDED)
    ALL = (*OPEN, ANSWERED, CLOSED)


class OfficialResponse(Table, tablename="civic_official_response"):
    subject = Varchar(length=120, index=True)  # "ideas:42": module slug and record id
    subject_kind = Varchar(length=60)  # "ideas.idea": per-kind rules and labels
    subject_title = Varchar(length=300)
    subject_url = Varchar(length=300)
    subject_is_public = Boolean(default=True)
    organisation = ForeignKey(Organisation)
    specialist = ForeignKey(User, null=True)
    citizen = ForeignKey(User, null=True)
    state = Varchar(length=20, default=ResponseState.RECEIVED, index=True)
    received_at = Timestamptz(default=TimestamptzNow())
    received_on = Date()
    due_on = Date(index=True)
    working_days = Integer(default=15)
    acknowledged_at = Timestamptz(null=True, default=None)
    extended_until = Date(null=True, default=None)
    extension_reason = Text(null=True, default=None)
    forward_count = Integer(default=0)
    answer = Text(null=True, default=None)
    answer_is_public = Boolean(default=True)
    answered_at = Timestamptz(null=True, default=None)
    answered_on = Date(null=True, default=None)
    answered_by = ForeignKey(User, null=True)
    rating = Integer(null=True, default=None)
    solved = Boolean(null=True, default=None)
    escalated_at = Timestamptz(null=True, default=None)
    escalation_reason = Varchar(length=20, null=True, default=None)  # "overdue" or "low_rating"
    closed_at = Timestamptz(null=True, default=None)


class ResponseEvent(Table, tablename="civic_response_event"):
    """The history shown on public subjects; private notes stay with staff."""

    response = ForeignKey(OfficialResponse, index=True)
    kind = Varchar(length=20)
    created_at = Timestamptz(default=TimestamptzNow())
    actor = ForeignKey(User, null=True)
    organisation = ForeignKey(Organisation, null=True)
    note = Text(default="")
