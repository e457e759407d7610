"""One row per link: from a subject, to a public subject of another (or the same) module.

The same link is stored once (unique index civic_reference_once on from, to and relation);
both directions are indexed: that unique index leads with ``from_subject`` (what a record points
at) and ``to_subject`` has its own index (what points at a record)."""

from piccolo.columns import ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from civic.accounts.tables import User


class Reference(Table, tablename="civic_reference"):
    from_subject = Varchar(length=120)  # "hackathons:track-5": module slug, then the module's own id
    to_subject = Varchar(length=120, index=True)  # "ideas:challenge-3"
    relation = Varchar(length=30)  # a short code: source, discusses, implements
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
