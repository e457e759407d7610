"""Discussion and its moderation, for any subject: comments with one level of replies, the
edit window, reports (flags) with reasons, the moderation queue's open items, placeholders for
hidden items and the public moderation log (which never names the moderator).

The module keeps its rules (who may post, pre- or post-moderation, its counters and whom to
tell) and calls these inside its own write transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from piccolo.table import Table

from civic.clock import now_utc
from civic.i18n.runtime import N_
from civic.participation.tables import Comment, Flag, ModerationEntry
from civic.rules import Denied, NotFound, RuleError

VISIBLE = "visible"
PENDING = "pending"
HIDDEN = "hidden"

COMMENT = "comment"  # the target kind of a comment in flags and the moderation log
EDIT_WINDOW = timedelta(minutes=15)


# --------------------------------------------------------------------------- comments


async def thread(subject: str, viewer_id: int | None = None, moderator: bool = False) -> list[dict]:
    """The discussion: top-level comments oldest first, each with its replies. Hidden comments
    keep their place as a placeholder (``show_content`` False); pending ones show only to their
    author and moderators."""
    rows = await Comment.raw(
        'SELECT c.*, u."display_name" AS "author_name" FROM "participation_comment" c'
        ' LEFT JOIN "civic_user" u ON u."id" = c."author" WHERE c."subject" = {} ORDER BY c."created_at", c."id"',
        subject)
    shown = []
    for row in rows:
        if row["visibility"] == PENDING and not (moderator or row["author"] == viewer_id):
            continue
        row["show_content"] = row["visibility"] == VISIBLE or moderator or row["author"] == viewer_id
        row["replies"] = []
        shown.append(row)
    by_id = {row["id"]: row for row in shown}
    top = []
    for row in shown:
        parent = by_id.get(row["parent"]) if row["parent"] else None
        if parent is not None:
            parent["replies"].append(row)
        elif not row["parent"]:
            top.append(row)
    return top


async def get_comment(comment_id: int) -> dict | None:
    return await Comment.select().where(Comment.id == comment_id).first()


async def post_comment(subject: str, author_id: int | None, body: str, *, parent_id: int | None = None,
                       visibility: str = VISIBLE, kind: str = "comment", now: datetime | None = None
                       ) -> tuple[int, dict | None]:
    """Add a comment (inside the caller's transaction); returns its id and the comment it
    replies to. A reply to a reply joins its thread; a hidden comment takes no replies."""
    parent = None
    if parent_id:
        parent = await Comment.select().where((Comment.id == parent_id) & (Comment.subject == subject)).first()
        if parent is None or parent["visibility"] == HIDDEN:
            raise RuleError(N_("The comment you reply to does not exist."), "comment")
        if parent["parent"]:
            parent = await Comment.select().where(Comment.id == parent["parent"]).first()
    comment = Comment(subject=subject, parent=parent["id"] if parent else None, author=author_id, kind=kind,
                      body=body, visibility=visibility, created_at=now or now_utc())
    await comment.save()
    return comment.id, parent


def comment_editable(comment: dict, now: datetime | None = None, window: timedelta = EDIT_WINDOW) -> bool:
    return comment["kind"] == "comment" and comment["visibility"] != HIDDEN and \
        (now or now_utc()) - comment["created_at"] <= window


async def edit_comment(comment_id: int, author_id: int, body: str, *, now: datetime | None = None,
                       window: timedelta = EDIT_WINDOW) -> dict:
    """The author corrects a comment within the edit window (inside the caller's transaction)."""
    now = now or now_utc()
    comment = await get_comment(comment_id)
    if comment is None:
        raise NotFound(N_("This comment does not exist."))
    if comment["author"] != author_id or comment["kind"] != "comment":
        raise Denied(N_("Only the author may edit a comment."))
    if not comment_editable(comment, now, window):
        raise RuleError(N_("A comment can be edited only within 15 minutes of writing it."), "comment")
    await Comment.update({Comment.body: body, Comment.edited_at: now}).where(Comment.id == comment_id)
    return comment


async def comments_since(author_id: int, since: datetime) -> int:
    return await Comment.count().where((Comment.author == author_id) & (Comment.created_at > since))


async def pending_comments(prefix: str) -> list[dict]:
    """Comments waiting for pre-moderation in subjects starting with ``prefix`` ("ideas:")."""
    return await Comment.select(Comment.id, Comment.subject, Comment.body, Comment.created_at, Comment.author,
                                Comment.author.display_name.as_alias("author_name")).where(
        (Comment.visibility == PENDING) & Comment.subject.like(prefix + "%")).order_by(Comment.id)


async def comments_of_author(user_id: int, prefix: str = "") -> list[dict]:
    query = Comment.select(Comment.id, Comment.subject, Comment.body, Comment.visibility, Comment.created_at).where(
        (Comment.author == user_id) & (Comment.kind == "comment"))
    if prefix:
        query = query.where(Comment.subject.like(prefix + "%"))
    return await query.order_by(Comment.id)


# --------------------------------------------------------------------------- placeholders


async def set_visibility(table: type[Table], row_id: int, *, was: str, visibility: str, reason: str = "",
                         note: str = "", now: datetime | None = None) -> bool:
    """Hide, publish or show again any row with the placeholder columns (visibility,
    hidden_reason, hidden_note, hidden_at): a comment here or a module's own record. Conditional
    on the visibility the moderator saw, so of two moderators acting at once only one does it."""
    values = {table.visibility: visibility}
    if visibility == HIDDEN:
        values.update({table.hidden_reason: reason, table.hidden_note: note, table.hidden_at: now or now_utc()})
    else:
        values.update({table.hidden_reason: "", table.hidden_note: "", table.hidden_at: None})
    changed = await table.update(values).where((table.id == row_id) & (table.visibility == was)).returning(table.id)
    return bool(changed)


# --------------------------------------------------------------------------- flags


async def add_flag(target_kind: str, target_id: int, subject: str, reporter_id: int | None, reason: str,
                   note: str = "", now: datetime | None = None) -> bool:
    """Report an item; one report per person and item (False: already reported)."""
    inserted = await Flag.insert(Flag(target_kind=target_kind, target_id=target_id, subject=subject,
                                      reporter=reporter_id, reason=reason, note=note,
                                      created_at=now or now_utc())).on_conflict(action="DO NOTHING").returning(Flag.id)
    return bool(inserted)


async def open_flags(target_kinds: list[str]) -> list[dict]:
    """Items with open reports, oldest report first: each ``{"kind", "id", "subject", "flags"}``."""
    flags = await Flag.select().where(Flag.resolved_at.is_null() & Flag.target_kind.is_in(target_kinds)).order_by(
        Flag.id)
    grouped: dict[tuple[str, int], dict] = {}
    for f in flags:
        key = (f["target_kind"], f["target_id"])
        grouped.setdefault(key, {"kind": f["target_kind"], "id": f["target_id"], "subject": f["subject"],
                                 "flags": []})["flags"].append(f)
    return list(grouped.values())


async def resolve_flags(target_kind: str, target_id: int, resolution: str, now: datetime | None = None) -> int:
    """Close the open reports on an item ("hidden" or "kept"); returns how many."""
    closed = await Flag.update({Flag.resolved_at: now or now_utc(), Flag.resolution: resolution}).where(
        (Flag.target_kind == target_kind) & (Flag.target_id == target_id) & Flag.resolved_at.is_null()).returning(
        Flag.id)
    return len(closed)


async def flags_of_reporter(user_id: int) -> list[dict]:
    return await Flag.select(Flag.target_kind, Flag.target_id, Flag.subject, Flag.reason, Flag.note,
                             Flag.created_at).where(Flag.reporter == user_id).order_by(Flag.id)


# --------------------------------------------------------------------------- the public log


async def record(target_kind: str, target_id: int, subject: str, action: str, *, moderator_id: int | None,
                 organisation_id: int | None, reason: str = "", note: str = "", now: datetime | None = None) -> None:
    """A moderation decision, in the public log (inside the caller's transaction)."""
    await ModerationEntry(target_kind=target_kind, target_id=target_id, subject=subject, action=action,
                          reason=reason, note=note, moderator=moderator_id, organisation=organisation_id,
                          created_at=now or now_utc()).save()


async def public_log(prefix: str, page: int = 1, per_page: int = 50) -> tuple[list[dict], bool]:
    """The public moderation log of subjects starting with ``prefix``, newest first: what, when
    and why — never who. Returns the page and whether there is another."""
    page = max(1, page)
    rows = await ModerationEntry.select(
        ModerationEntry.id, ModerationEntry.target_kind, ModerationEntry.target_id, ModerationEntry.subject,
        ModerationEntry.action, ModerationEntry.reason, ModerationEntry.note, ModerationEntry.created_at,
    ).where(ModerationEntry.subject.like(prefix + "%")).order_by(ModerationEntry.id, ascending=False).limit(
        per_page + 1).offset((page - 1) * per_page)
    return rows[:per_page], len(rows) > per_page
