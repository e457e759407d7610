"""One row per person where the rules say so, as unique indexes (SQLite cannot add constraints
later): one invitation per study and e-mail, one pseudonym per study and key, one round of each
number, one wording of a question per round, one response and one answer per pseudonym."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

from civic.migration_helpers import add_unique_index

ID = "2026-11-24T18:36:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes of the delphi tables"

UNIQUE = (
    ("delphi_panelist_one_per_email", "delphi_panelist", ["study", "email"]),
    ("delphi_pseudonym_one_per_key", "delphi_pseudonym", ["study", "key"]),
    ("delphi_round_one_per_number", "delphi_round", ["study", "number"]),
    ("delphi_item_one_per_round", "delphi_item", ["round", "question"]),
    ("delphi_response_one_per_pseudonym", "delphi_response", ["round", "pseudonym"]),
    ("delphi_answer_one_per_pseudonym", "delphi_answer", ["item", "pseudonym"]),
)


class DelphiRaw(Table, tablename="delphi_study"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="delphi", description=DESCRIPTION)
    for name, tablename, columns in UNIQUE:
        add_unique_index(manager, DelphiRaw, tablename, name, columns)
    return manager
