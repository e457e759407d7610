"""One-per-person rule as a unique index (SQLite cannot add constraints later)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

from civic.migration_helpers import add_unique_index

ID = "2026-11-24T11:54:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique index civic_notification_preference_one_choice_per_kind"


class NotificationPreferenceRaw(Table, tablename="civic_notification_preference"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notify", description=DESCRIPTION)
    add_unique_index(manager, NotificationPreferenceRaw, "civic_notification_preference", "civic_notification_preference_one_choice_per_kind", ["user", "kind"])
    return manager
