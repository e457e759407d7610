"""Ideas, challenges and everything around them: supports, discussion, moderation, versions,
implementation tracking.

Supports, follows, the discussion, reports and the public moderation log are the core's shared
participation tables (``civic.participation``), keyed by the idea's subject id ``"ideas:42"``.
Counters shown on lists (``Idea.support_count``, ``Idea.comment_count``) are changed in the
same transaction as the rows they count.
Composite indexes for the lists are created there too (Piccolo declares single-column ones).
"""

from piccolo.columns import (BigInt, Boolean, Date, DoublePrecision, ForeignKey, Integer, OnDelete, Text, Timestamptz,
                             Varchar)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from civic.accounts.tables import User
from civic.responses.tables import OfficialResponse
from civic.territory.tables import Organisation, Territory


class IdeaPolicy(Table, tablename="ideas_policy"):
    """An organisation's rules for ideas addressed to it (and to the bodies below it that have
    no policy of their own): pre- or post-moderation and the support threshold."""

    organisation = ForeignKey(Organisation, unique=True)
    moderation = Varchar(length=10, default="post")  # "pre" or "post"
    support_threshold = Integer(default=100)
    updated_at = Timestamptz(default=TimestamptzNow())


class Challenge(Table, tablename="ideas_challenge"):
    """A concrete problem a department puts to citizens (the collaboration method, DOMAIN.md
    "Crowdsourcing", line 1787 of the report)."""

    organisation = ForeignKey(Organisation)
    territory = ForeignKey(Territory)
    title = Varchar(length=200)
    problem = Text()  # context, markdown
    summary = Varchar(length=300, default="")
    success_criteria = Text()  # markdown
    deadline = Date()
    level = Varchar(length=20, default="dialogue")  # civic.engagement.levels
    state = Varchar(length=20, default="open", index=True)  # open, closed, outcome
    outcome = Text(default="")
    outcome_published_at = Timestamptz(null=True, default=None)
    lang = Varchar(length=5, default="kk")
    created_by = ForeignKey(User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    visibility = Varchar(length=10, default="visible")  # visible or hidden
    hidden_reason = Varchar(length=20, default="")
    hidden_note = Text(default="")
    hidden_at = Timestamptz(null=True, default=None)


class Idea(Table, tablename="ideas_idea"):
    title = Varchar(length=200)
    body = Text()  # markdown
    summary = Varchar(length=300, default="")  # plain-text opening of the body, for cards
    category = Varchar(length=20, index=True)
    territory = ForeignKey(Territory, index=True)
    organisation = ForeignKey(Organisation, index=True)  # the akimat (or the challenge's department)
    author = ForeignKey(User, index=True)
    challenge = ForeignKey(Challenge, null=True, index=True, on_delete=OnDelete.set_null)
    cost_estimate = BigInt(null=True, default=None)  # tenge
    lang = Varchar(length=5, default="kk")
    status = Varchar(length=20, default="published", index=True)
    status_reason = Text(default="")
    status_changed_at = Timestamptz(null=True, default=None)
    visibility = Varchar(length=10, default="visible")  # visible, pending, hidden
    hidden_reason = Varchar(length=20, default="")
    hidden_note = Text(default="")
    hidden_at = Timestamptz(null=True, default=None)
    support_count = Integer(default=0)
    comment_count = Integer(default=0)
    # Sum over supports of 2 ** ((supported_at - TREND_EPOCH) / half-life): ordering by it is
    # ordering by time-decayed support velocity (see services.trend_weight).
    trend_score = DoublePrecision(default=0.0)
    version = Integer(default=1)
    threshold_reached_at = Timestamptz(null=True, default=None)
    response = ForeignKey(OfficialResponse, null=True, on_delete=OnDelete.set_null)  # the latest one
    answered_at = Timestamptz(null=True, default=None)
    shortlisted = Boolean(default=False)
    department = ForeignKey(Organisation, null=True, on_delete=OnDelete.set_null)  # implements it
    budget_line = Varchar(length=200, default="")
    progress = Integer(default=0)  # percent
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class IdeaImage(Table, tablename="ideas_image"):
    idea = ForeignKey(Idea, index=True)
    stored_name = Varchar(length=80, unique=True)  # random, under uploads_dir/ideas/
    content_type = Varchar(length=40)  # from the magic bytes, never from the browser
    size = Integer()
    filename = Varchar(length=120)  # a safe name for Content-Disposition
    alt = Varchar(length=200, default="")
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class IdeaVersion(Table, tablename="ideas_version"):
    """What an idea said before a change made after its first support (visible to all)."""

    idea = ForeignKey(Idea, index=True)
    version = Integer()
    title = Varchar(length=200)
    body = Text()
    category = Varchar(length=20)
    cost_estimate = BigInt(null=True, default=None)
    replaced_at = Timestamptz(default=TimestamptzNow())


class StatusChange(Table, tablename="ideas_status_change"):
    idea = ForeignKey(Idea, index=True)
    old_status = Varchar(length=20)
    new_status = Varchar(length=20)
    reason = Text(default="")
    actor = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class Milestone(Table, tablename="ideas_milestone"):
    idea = ForeignKey(Idea, index=True)
    title = Varchar(length=200)
    due_on = Date()
    done_on = Date(null=True, default=None)
    progress = Integer(default=0)  # percent of the whole reached with this milestone
    created_at = Timestamptz(default=TimestamptzNow())
