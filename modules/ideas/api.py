"""The JSON API of ideas under /api/v1/ideas: list, read, propose, support, comment.

Reading is open to everyone. Writing needs a personal API token (``Authorization: Bearer …``;
the core ignores the session cookie on API writes, so no CSRF token is needed) of an account
with a confirmed e-mail. The same services and rules as the pages apply; a refusal is JSON
``{"status_code", "detail", "field"}`` with the detail in the reader's language.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody

from civic.accounts.guards import at_least, current_user
from civic.accounts.verification import Level
from civic.i18n.runtime import gettext as _
from civic.rules import NotFound, RuleError
from civic.territory.tables import Territory
from modules.ideas import services


confirmed = at_least(Level.EMAIL_CONFIRMED)
TAGS = ["ideas"]


class ProposeIn(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    body: str
    category: str
    territory: str  # territory code, e.g. "almaty.bostandyk"; a challenge's territory when omitted
    cost_estimate: int | None = None
    challenge: int | None = None


class CommentIn(msgspec.Struct, forbid_unknown_fields=True):
    body: str
    parent: int | None = None


def _plain(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _refused(exc: RuleError) -> Response:
    if isinstance(exc, NotFound):
        raise NotFoundException()
    return Response({"status_code": exc.status_code, "detail": _(exc.msgid, **exc.params),
                     "field": None if exc.field == "__all__" else exc.field}, status_code=exc.status_code)


def _card(row: dict) -> dict:
    return {
        "id": row["id"], "title": row["title"], "summary": row["summary"], "category": row["category"],
        "status": row["status"], "support_count": row["support_count"], "comment_count": row["comment_count"],
        "territory": row.get("territory_name_en") or "", "created_at": _plain(row["created_at"]),
        "answered_at": _plain(row["answered_at"]), "progress": row["progress"], "challenge": row["challenge"],
        "lang": row["lang"], "url": f"/ideas/{row['id']}",
    }


@get("/api/v1/ideas", tags=TAGS, summary="List public ideas")
async def list_ideas(sort: FromQuery[str] = "new", territory: FromQuery[str | None] = None,
                     category: FromQuery[str | None] = None, status: FromQuery[str | None] = None,
                     challenge: FromQuery[int | None] = None, page: FromQuery[int] = 1) -> Response:
    """Sorts: new, supported, trending, discussed, answered. ``territory`` is a territory code and
    includes everything below it."""
    if sort not in services.SORTS:
        return _refused(RuleError("Choose an order from the list.", "sort"))
    if category and category not in services.CATEGORIES:
        return _refused(RuleError("Choose a category from the list.", "category"))
    if status and status not in services.STATUSES:
        return _refused(RuleError("Choose a status from the list.", "status"))
    result = await services.list_ideas(sort=sort, territory=territory, category=category, status=status,
                                       challenge_id=challenge, page=max(1, page))
    return Response({"ideas": [_card(r) for r in result.items], "page": result.page, "has_next": result.has_next})


async def _public_idea(request: Request, idea_id: int) -> dict:
    idea = await services.get_idea(idea_id)
    if idea is None or (idea["visibility"] == services.PENDING
                        and not await services.may_see_content(current_user(request), idea)):
        raise NotFoundException()
    return idea


@get("/api/v1/ideas/{idea_id:int}", tags=TAGS, summary="Read an idea")
async def read_idea(request: Request, idea_id: FromPath[int]) -> Response:
    idea = await _public_idea(request, idea_id)
    if idea["visibility"] == services.HIDDEN and not await services.may_see_content(current_user(request), idea):
        return Response({"id": idea["id"], "visibility": "hidden", "hidden_reason": idea["hidden_reason"],
                         "hidden_note": idea["hidden_note"], "hidden_at": _plain(idea["hidden_at"])})
    official = []
    for r in await services.official_responses(idea_id):
        official.append({"id": r["id"], "state": r["state"], "received_on": _plain(r["received_on"]),
                         "due_on": _plain(r["effective_due_on"]), "light": r["light"],
                         "answered_on": _plain(r["answered_on"]),
                         "answer": r["answer"] if r["answer_is_public"] else None, "url": f"/responses/{r['id']}"})
    milestones = [{"title": m["title"], "due_on": _plain(m["due_on"]), "done_on": _plain(m["done_on"]),
                   "progress": m["progress"]} for m in await services.milestones_of(idea_id)]
    history = [{"from": h["old_status"], "to": h["new_status"], "reason": h["reason"], "at": _plain(h["created_at"])}
               for h in await services.status_history(idea_id)]
    return Response({
        "id": idea["id"], "title": idea["title"], "body": idea["body"], "category": idea["category"],
        "status": idea["status"], "status_reason": idea["status_reason"], "visibility": idea["visibility"],
        "territory": idea["territory_code"], "organisation": idea["organisation_slug"], "author": idea["author_name"],
        "cost_estimate": idea["cost_estimate"], "support_count": idea["support_count"],
        "comment_count": idea["comment_count"], "version": idea["version"], "lang": idea["lang"],
        "created_at": _plain(idea["created_at"]), "threshold_reached_at": _plain(idea["threshold_reached_at"]),
        "answered_at": _plain(idea["answered_at"]), "challenge": idea["challenge"],
        "implementation": {"department": idea["department_slug"], "budget_line": idea["budget_line"],
                           "progress": idea["progress"], "milestones": milestones},
        "official_responses": official, "status_history": history, "url": f"/ideas/{idea['id']}",
    })


@get("/api/v1/ideas/{idea_id:int}/comments", tags=TAGS, summary="The discussion of an idea")
async def read_comments(request: Request, idea_id: FromPath[int]) -> Response:
    idea = await _public_idea(request, idea_id)
    if idea["visibility"] != services.VISIBLE:
        return Response({"comments": []})

    def shown(c: dict) -> dict:
        visible = c["visibility"] == services.VISIBLE
        return {"id": c["id"], "parent": c["parent"], "kind": c["kind"], "created_at": _plain(c["created_at"]),
                "edited_at": _plain(c["edited_at"]), "author": c["author_name"] if visible else None,
                "body": c["body"] if visible else None, "visibility": c["visibility"],
                "hidden_reason": c["hidden_reason"] or None}

    thread = await services.comments_of(idea_id)
    return Response({"comments": [{**shown(c), "replies": [shown(r) for r in c["replies"]]} for c in thread]})


@post("/api/v1/ideas", tags=TAGS, summary="Propose an idea", guards=[confirmed], status_code=201)
async def propose(request: Request, state: State, data: JSONBody[ProposeIn]) -> Response:
    territory_id = None
    if data.territory:
        row = await Territory.select(Territory.id).where(Territory.code == data.territory).first()
        if row is None:
            return _refused(RuleError("Choose the district or rural okrug the idea is for.", "territory"))
        territory_id = row["id"]
    try:
        idea_id = await services.propose(state.settings, current_user(request), title=data.title, body=data.body,
                                         category=data.category, territory_id=territory_id,
                                         cost_estimate=data.cost_estimate, challenge_id=data.challenge)
    except RuleError as exc:
        return _refused(exc)
    idea = await services.get_idea(idea_id)
    return Response({"id": idea_id, "visibility": idea["visibility"], "url": f"/ideas/{idea_id}"}, status_code=201)


@post("/api/v1/ideas/{idea_id:int}/support", tags=TAGS, summary="Support an idea", guards=[confirmed],
      status_code=200)
async def support(request: Request, idea_id: FromPath[int]) -> Response:
    try:
        result = await services.support(current_user(request), idea_id)
    except RuleError as exc:
        return _refused(exc)
    return Response({"support_count": result.support_count, "supported": True, "changed": result.changed})


@delete("/api/v1/ideas/{idea_id:int}/support", tags=TAGS, summary="Withdraw a support", guards=[confirmed],
        status_code=200)
async def withdraw(request: Request, idea_id: FromPath[int]) -> Response:
    try:
        result = await services.withdraw_support(current_user(request), idea_id)
    except RuleError as exc:
        return _refused(exc)
    return Response({"support_count": result.support_count, "supported": False, "changed": result.changed})


@post("/api/v1/ideas/{idea_id:int}/comments", tags=TAGS, summary="Comment on an idea", guards=[confirmed],
      status_code=201)
async def comment(request: Request, state: State, idea_id: FromPath[int], data: JSONBody[CommentIn]) -> Response:
    try:
        comment_id = await services.add_comment(state.settings, current_user(request), idea_id, data.body,
                                                data.parent)
    except RuleError as exc:
        return _refused(exc)
    return Response({"id": comment_id, "url": f"/ideas/{idea_id}#comment-{comment_id}"}, status_code=201)


def router() -> Router:
    return Router(path="/", route_handlers=[list_ideas, read_idea, read_comments, propose, support, withdraw,
                                            comment])
