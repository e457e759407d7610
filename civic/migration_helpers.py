"""Migration steps Piccolo cannot express on SQLite.

SQLite has no ALTER TABLE ... ADD CONSTRAINT, so "one per person" rules are unique indexes,
which both engines enforce the same way.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager


def add_unique_index(manager: MigrationManager, table_class, tablename: str, name: str, columns: list[str]) -> None:
    column_list = ", ".join(f'"{c}"' for c in columns)

    async def create_index():
        await table_class.raw(f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}" ON "{tablename}" ({column_list})')

    async def drop_index():
        await table_class.raw(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
