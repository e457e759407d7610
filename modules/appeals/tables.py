"""Citizens' appeals (SMART-appeals, seed 004) and reception schedules (seed 000).

* :class:`Appeal` carries one end-to-end number for its whole life (``ALM-2026-000123``),
  allocated from :class:`AppealCounter` inside the filing transaction; the deadline, routing,
  extension, rating and escalation live in its ``civic.responses`` OfficialResponse.
* Duplicates point at the appeal they were joined to (``duplicate_of``); one answer serves
  them all.
* :class:`AppealParticipant` rows are the other bodies of a joint answer.
* :class:`ReceptionSlot` and :class:`ReceptionBooking` are the weekly receptions of the city
  departments at the district akimats; ``booked_count`` changes in the same transaction as the
  bookings it counts.

"One per …" rules are unique indexes created in the follow-up migration
(``appeals_counter_one_per_year``, ``appeals_participant_once``,
``appeals_routing_rule_once``, ``appeals_booking_one_per_person``).
"""

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from civic.accounts.tables import User
from civic.responses.tables import OfficialResponse
from civic.territory.tables import Organisation, Territory


class AppealCounter(Table, tablename="appeals_counter"):
    """The last number given per prefix (the city or region) and year; unique (prefix, year)."""

    prefix = Varchar(length=8)
    year = Integer()
    last_number = Integer(default=0)


class RoutingRule(Table, tablename="appeals_routing_rule"):
    """Which body receives appeals of a category from a territory (and everything below it);
    the most specific territory wins. Without a rule, the territory's akimat receives them."""

    category = Varchar(length=20)
    territory = ForeignKey(Territory)
    organisation = ForeignKey(Organisation)
    updated_by = ForeignKey(User, null=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class Appeal(Table, tablename="appeals_appeal"):
    number = Varchar(length=24, unique=True)  # ALM-2026-000123: the same in every body it reaches
    kind = Varchar(length=12)  # request, complaint, proposal
    category = Varchar(length=20, index=True)
    title = Varchar(length=200)
    body = Text()
    lang = Varchar(length=5, default="kk")
    territory = ForeignKey(Territory, index=True)
    organisation = ForeignKey(Organisation, index=True)  # the body it was routed to first
    channel = Varchar(length=12, index=True)  # online, api, phone, letter, email, reception
    citizen = ForeignKey(User, null=True, index=True)  # None: registered for someone without an account
    applicant_name = Varchar(length=200, default="")
    applicant_contact = Varchar(length=200, default="")  # phone or postal address; private
    registered_by = ForeignKey(User, null=True)  # the official who registered a phone, letter or reception appeal
    status = Varchar(length=12, default="open", index=True)  # open, answered
    response = ForeignKey(OfficialResponse, null=True)
    received_on = Date()  # Asia/Almaty date of registration (the number's year)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    answered_on = Date(null=True, default=None)
    duplicate_of = ForeignKey("self", null=True, index=True)
    joined_at = Timestamptz(null=True, default=None)
    joined_by = ForeignKey(User, null=True)
    publish_consent = Boolean(default=False)  # the citizen allows publishing (after redaction)
    public_title = Varchar(length=200, default="")
    public_body = Text(default="")
    public_answer = Text(default="")
    published_at = Timestamptz(null=True, default=None)
    published_by = ForeignKey(User, null=True)
    eotinish_number = Varchar(length=40, default="")
    eotinish_registered_at = Timestamptz(null=True, default=None)
    demo_key = Varchar(length=40, default="", index=True)  # the demo's own appeals, for idempotent loading


class AppealAttachment(Table, tablename="appeals_attachment"):
    appeal = ForeignKey(Appeal, index=True)
    stored_name = Varchar(length=80, unique=True)  # random, under uploads_dir/appeals/
    content_type = Varchar(length=60)  # from the magic bytes, never from the browser
    size = Integer()
    sha256 = Varchar(length=64)
    filename = Varchar(length=120)  # a safe name for Content-Disposition
    created_at = Timestamptz(default=TimestamptzNow())


class AppealParticipant(Table, tablename="appeals_participant"):
    """Another body addressed by the appeal: it writes its part of the one joint answer."""

    appeal = ForeignKey(Appeal, index=True)
    organisation = ForeignKey(Organisation)
    added_by = ForeignKey(User, null=True)
    added_at = Timestamptz(default=TimestamptzNow())
    contribution = Text(default="")
    contributed_by = ForeignKey(User, null=True)
    contributed_at = Timestamptz(null=True, default=None)


class AppealEvent(Table, tablename="appeals_event"):
    """What happened to the appeal beyond the response's own history (filed, joined,
    published, another body's part, e-Otinish registration). ``public`` events show on the
    status page, without their note."""

    appeal = ForeignKey(Appeal, index=True)
    kind = Varchar(length=20)
    actor = ForeignKey(User, null=True)
    organisation = ForeignKey(Organisation, null=True)
    note = Text(default="")
    public = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class ReceptionSlot(Table, tablename="appeals_reception_slot"):
    organisation = ForeignKey(Organisation, index=True)  # the city department holding the reception
    host = ForeignKey(Organisation, index=True)  # the district akimat where it is held
    specialist = ForeignKey(User)
    topics = Text()
    place = Varchar(length=300)
    mode = Varchar(length=10, default="in_person")  # in_person, online
    online_link = Varchar(length=300, default="")  # given to booked people only
    starts_at = Timestamptz(index=True)
    duration_minutes = Integer(default=120)
    capacity = Integer(default=10)
    booked_count = Integer(default=0)
    series = Varchar(length=32, default="")  # slots published together as one weekly series
    cancelled_at = Timestamptz(null=True, default=None)
    cancel_reason = Text(default="")
    created_by = ForeignKey(User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    demo_key = Varchar(length=40, default="", index=True)


class ReceptionBooking(Table, tablename="appeals_reception_booking"):
    slot = ForeignKey(ReceptionSlot, index=True)
    person = ForeignKey(User, null=True, index=True)  # None: a visitor who came without booking
    visitor_name = Varchar(length=200, default="")
    question = Text(default="")
    status = Varchar(length=12, default="booked")  # booked, cancelled, walk_in
    created_at = Timestamptz(default=TimestamptzNow())
    cancelled_at = Timestamptz(null=True, default=None)
    reminder_sent_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=20, default="")  # advised, resolved, appeal_opened, no_show
    outcome_note = Text(default="")
    outcome_at = Timestamptz(null=True, default=None, index=True)
    outcome_by = ForeignKey(User, null=True)
    appeal = ForeignKey(Appeal, null=True)
