"""One-per rules as unique indexes (SQLite cannot add constraints later) and the composite
indexes the staff lists and the analysis read by."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

from civic.migration_helpers import add_unique_index

ID = "2026-11-24T14:23:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes: counter per prefix and year, one booking per person and slot, participants, routing"

INDEXES = (
    ("appeals_appeal_by_citizen", "appeals_appeal", ["citizen", "created_at"]),
    ("appeals_appeal_by_received", "appeals_appeal", ["received_on", "id"]),
    ("appeals_slot_by_host", "appeals_reception_slot", ["host", "starts_at"]),
)


class CounterRaw(Table, tablename="appeals_counter"):
    pass


class ParticipantRaw(Table, tablename="appeals_participant"):
    pass


class RoutingRuleRaw(Table, tablename="appeals_routing_rule"):
    pass


class BookingRaw(Table, tablename="appeals_reception_booking"):
    pass


def _index(manager: MigrationManager, name: str, tablename: str, columns: list[str]) -> None:
    column_list = ", ".join(f'"{c}"' for c in columns)

    async def create_index():
        await CounterRaw.raw(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{tablename}" ({column_list})')

    async def drop_index():
        await CounterRaw.raw(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="appeals", description=DESCRIPTION)
    add_unique_index(manager, CounterRaw, "appeals_counter", "appeals_counter_one_per_year", ["prefix", "year"])
    add_unique_index(manager, ParticipantRaw, "appeals_participant", "appeals_participant_once",
                     ["appeal", "organisation"])
    add_unique_index(manager, RoutingRuleRaw, "appeals_routing_rule", "appeals_routing_rule_once",
                     ["category", "territory"])
    # NULL persons (visitors who came without booking) are distinct on both databases.
    add_unique_index(manager, BookingRaw, "appeals_reception_booking", "appeals_booking_one_per_person",
                     ["slot", "person"])
    for name, tablename, columns in INDEXES:
        _index(manager, name, tablename, columns)
    return manager
