"""Supports, follows, comments, reports and the public moderation log move to the core's shared
participation tables (civic.participation), keyed by "ideas:<id>": the rows are copied (comment
ids kept, so links, replies, reports and log entries still point at the same comment), then
the old tables go."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-04T19:12:51:956389"
VERSION = "1.38.0"
DESCRIPTION = "supports, follows, discussion, flags and the moderation log move to civic.participation"


class Raw(Table, tablename="participation_support"):
    pass


COPY = (
    'INSERT INTO "participation_support" ("subject", "user", "created_at")'
    ' SELECT \'ideas:\' || "idea", "user", "created_at" FROM "ideas_support" ORDER BY "id"',
    'INSERT INTO "participation_follow" ("subject", "user", "created_at")'
    ' SELECT \'ideas:\' || "idea", "user", "created_at" FROM "ideas_follow" ORDER BY "id"',
    'INSERT INTO "participation_comment" ("id", "subject", "parent", "author", "kind", "body", "visibility",'
    ' "hidden_reason", "hidden_note", "hidden_at", "created_at", "edited_at")'
    ' SELECT "id", \'ideas:\' || "idea", "parent", "author", "kind", "body", "visibility", "hidden_reason",'
    ' "hidden_note", "hidden_at", "created_at", "edited_at" FROM "ideas_comment" ORDER BY "id"',
    'INSERT INTO "participation_flag" ("target_kind", "target_id", "subject", "reporter", "reason", "note",'
    ' "created_at", "resolved_at", "resolution")'
    ' SELECT CASE f."target_kind" WHEN \'idea\' THEN \'ideas.idea\' WHEN \'challenge\' THEN \'ideas.challenge\''
    ' ELSE \'comment\' END, f."target_id",'
    ' CASE f."target_kind" WHEN \'idea\' THEN \'ideas:\' || f."target_id"'
    ' WHEN \'challenge\' THEN \'ideas:challenge-\' || f."target_id"'
    ' ELSE COALESCE((SELECT \'ideas:\' || c."idea" FROM "ideas_comment" c WHERE c."id" = f."target_id"), \'\') END,'
    ' f."reporter", f."reason", f."note", f."created_at", f."resolved_at", f."resolution"'
    ' FROM "ideas_flag" f ORDER BY f."id"',
    'INSERT INTO "participation_moderation_log" ("target_kind", "target_id", "subject", "action", "reason", "note",'
    ' "moderator", "organisation", "created_at")'
    ' SELECT CASE "target_kind" WHEN \'idea\' THEN \'ideas.idea\' WHEN \'challenge\' THEN \'ideas.challenge\''
    ' ELSE \'comment\' END, "target_id",'
    ' CASE WHEN "target_kind" = \'challenge\' THEN \'ideas:challenge-\' || "target_id"'
    ' WHEN "idea" IS NOT NULL THEN \'ideas:\' || "idea" ELSE \'\' END,'
    ' "action", "reason", "note", "moderator", "organisation", "created_at"'
    ' FROM "ideas_moderation_log" ORDER BY "id"',
)


async def copy_rows():
    for statement in COPY:
        await Raw.raw(statement)
    if Raw._meta.db.engine_type == "postgres":  # the comment ids were given: move the sequence past them
        await Raw.raw('SELECT setval(pg_get_serial_sequence(\'"participation_comment"\', \'id\'),'
                      ' COALESCE((SELECT MAX("id") FROM "participation_comment"), 0) + 1, false)')


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="ideas", description=DESCRIPTION
    )

    manager.drop_table(class_name="Flag", tablename="ideas_flag", schema=None)

    manager.drop_table(
        class_name="ModerationEntry",
        tablename="ideas_moderation_log",
        schema=None,
    )

    manager.drop_table(
        class_name="Comment", tablename="ideas_comment", schema=None
    )

    manager.drop_table(
        class_name="Support", tablename="ideas_support", schema=None
    )

    manager.drop_table(class_name="Follow", tablename="ideas_follow", schema=None)

    manager.add_raw(copy_rows)  # runs before the tables are dropped
    return manager
