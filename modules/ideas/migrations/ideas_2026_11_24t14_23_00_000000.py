"""One-per-person rules as unique indexes (SQLite cannot add constraints later), and the
composite indexes the idea lists are ordered by."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

from civic.migration_helpers import add_unique_index

ID = "2026-11-24T14:23:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes for supports, follows and flags; list indexes for ideas"

# (index name, columns): every public list filters on visibility and orders by one column,
# then by id for a stable order between equal values.
LIST_INDEXES = (
    ("ideas_idea_list_new", ["visibility", "created_at", "id"]),
    ("ideas_idea_list_supported", ["visibility", "support_count", "id"]),
    ("ideas_idea_list_trending", ["visibility", "trend_score", "id"]),
    ("ideas_idea_list_discussed", ["visibility", "comment_count", "id"]),
    ("ideas_idea_list_answered", ["visibility", "answered_at", "id"]),
    ("ideas_comment_thread", ["idea", "created_at", "id"]),
)


class SupportRaw(Table, tablename="ideas_support"):
    pass


class FollowRaw(Table, tablename="ideas_follow"):
    pass


class FlagRaw(Table, tablename="ideas_flag"):
    pass


def _index(manager: MigrationManager, name: str, tablename: str, columns: list[str]) -> None:
    column_list = ", ".join(f'"{c}"' for c in columns)

    async def create_index():
        await SupportRaw.raw(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{tablename}" ({column_list})')

    async def drop_index():
        await SupportRaw.raw(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ideas", description=DESCRIPTION)
    add_unique_index(manager, SupportRaw, "ideas_support", "ideas_support_one_per_person", ["idea", "user"])
    add_unique_index(manager, FollowRaw, "ideas_follow", "ideas_follow_once", ["idea", "user"])
    add_unique_index(manager, FlagRaw, "ideas_flag", "ideas_flag_once", ["target_kind", "target_id", "reporter"])
    for name, columns in LIST_INDEXES:
        _index(manager, name, "ideas_comment" if name.startswith("ideas_comment") else "ideas_idea", columns)
    return manager
