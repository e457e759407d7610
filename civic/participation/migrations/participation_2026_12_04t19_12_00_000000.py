"""One-per-person rules as unique indexes (SQLite cannot add constraints later), and the index
a discussion is read by."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

from civic.migration_helpers import add_unique_index

ID = "2026-12-04T19:12:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes for supports, follows and flags; the discussion index"


class Raw(Table, tablename="participation_support"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="participation", description=DESCRIPTION)
    add_unique_index(manager, Raw, "participation_support", "participation_support_once", ["subject", "user"])
    add_unique_index(manager, Raw, "participation_follow", "participation_follow_once", ["subject", "user"])
    add_unique_index(manager, Raw, "participation_flag", "participation_flag_once",
                     ["target_kind", "target_id", "reporter"])

    async def create_thread_index():
        await Raw.raw('CREATE INDEX IF NOT EXISTS "participation_comment_thread"'
                      ' ON "participation_comment" ("subject", "created_at", "id")')

    async def drop_thread_index():
        await Raw.raw('DROP INDEX IF EXISTS "participation_comment_thread"')

    manager.add_raw(create_thread_index)
    manager.add_raw_backwards(drop_thread_index)
    return manager
