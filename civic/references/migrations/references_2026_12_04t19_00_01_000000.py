"""The same link once, as a unique index (SQLite cannot add constraints later); it also serves
"what does this record point at" (it leads with from_subject)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

from civic.migration_helpers import add_unique_index

ID = "2026-12-04T19:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique index civic_reference_once"


class ReferenceRaw(Table, tablename="civic_reference"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="references", description=DESCRIPTION)
    add_unique_index(manager, ReferenceRaw, "civic_reference", "civic_reference_once",
                     ["from_subject", "to_subject", "relation"])
    return manager
