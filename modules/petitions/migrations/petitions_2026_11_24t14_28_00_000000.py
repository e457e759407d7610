"""One signature per person and petition as a unique index (SQLite cannot add constraints
later), and the composite indexes that signing, the abuse checks, the counts by district and
the public lists use."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

from civic.migration_helpers import add_unique_index

ID = "2026-11-24T14:28:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique index petitions_signature_one_per_person; indexes for signing, abuse checks and lists"

# (index name, table, columns)
INDEXES = (
    ("petitions_signature_recent", "petitions_signature", ["petition", "created_at"]),
    ("petitions_signature_by_address", "petitions_signature", ["petition", "address_hash", "created_at"]),
    ("petitions_signature_by_domain", "petitions_signature", ["petition", "email_domain", "created_at"]),
    ("petitions_signature_by_district", "petitions_signature", ["petition", "valid", "district"]),
    ("petitions_signature_of_user", "petitions_signature", ["user"]),
    ("petitions_petition_listed", "petitions_petition", ["state", "listed_at", "signature_count"]),
)


class SignatureRaw(Table, tablename="petitions_signature"):
    pass


def _index(manager: MigrationManager, name: str, tablename: str, columns: list[str]) -> None:
    column_list = ", ".join(f'"{c}"' for c in columns)

    async def create_index():
        await SignatureRaw.raw(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{tablename}" ({column_list})')

    async def drop_index():
        await SignatureRaw.raw(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="petitions", description=DESCRIPTION)
    add_unique_index(manager, SignatureRaw, "petitions_signature", "petitions_signature_one_per_person",
                     ["petition", "user"])
    for name, tablename, columns in INDEXES:
        _index(manager, name, tablename, columns)
    return manager
