"""The search outbox: index changes written in the same transaction as the record, applied
to the search engine after commit, and kept until the engine has taken them."""

from piccolo.columns import JSON, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class SearchOutboxEntry(Table, tablename="search_outbox"):
    document_id = Varchar(length=120, index=True)  # "ideas:42"
    action = Varchar(length=10)  # "index" or "delete"
    document = JSON(default={})  # the Document as a dict, for "index"
    created_at = Timestamptz(default=TimestamptzNow())
    attempts = Integer(default=0)
    last_error = Text(default="")
    # the flush applying this entry now; a record claimed by one flush is left alone by the
    # others, so no process can apply an older version after a newer one (see search.outbox)
    claim_token = Varchar(length=32, null=True, default=None)
    claimed_at = Timestamptz(null=True, default=None)
