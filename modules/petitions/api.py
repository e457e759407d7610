"""The JSON API of petitions under /api/v1/petitions: list, read, sign and withdraw.

Reading is open to everyone: the list shows listed petitions; a petition's key (its link)
reads it even while it is reachable by link only. Signing needs a personal API token
(``Authorization: Bearer …``; the core ignores the session cookie on API writes, so no CSRF
token is needed) of an account verified at the level the addressee asks. The same services and
rules as the pages apply; a refusal is JSON ``{"status_code", "detail", "field"}`` with the
detail in the reader's language.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from civic.accounts.guards import at_least, current_user
from civic.accounts.routes import client_address
from civic.accounts.verification import Level
from civic.i18n.runtime import gettext as _
from civic.rules import NotFound, RuleError
from modules.petitions import services
from modules.petitions.routes import KEYS


confirmed = at_least(Level.EMAIL_CONFIRMED)
TAGS = ["petitions"]


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    hide_name: bool = False


def _plain(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _refused(exc: RuleError) -> Response:
    if isinstance(exc, NotFound):
        raise NotFoundException()
    return Response({"status_code": exc.status_code, "detail": _(exc.msgid, **exc.params),
                     "field": None if exc.field == "__all__" else exc.field}, status_code=exc.status_code)


def _card(row: dict) -> dict:
    return {
        "key": row["key"], "title": row["title"], "summary": row["summary"], "status": row["status"],
        "signature_count": row["signature_count"], "signature_threshold": row["signature_threshold"],
        "addressee": row["organisation_slug"], "territory": row.get("territory_name_en") or "",
        "opened_at": _plain(row["opened_at"]), "closes_at": _plain(row["closes_at"]),
        "answered_at": _plain(row["answered_at"]), "outcome": row["outcome"] or None, "lang": row["lang"],
        "url": f"/petitions/{row['key']}",
    }


@get("/api/v1/petitions", tags=TAGS, summary="List public petitions")
async def list_petitions(sort: FromQuery[str] = "signatures", status: FromQuery[str | None] = None,
                         addressee: FromQuery[str | None] = None, territory: FromQuery[str | None] = None,
                         page: FromQuery[int] = 1) -> Response:
    """Listed petitions only. Sorts: signatures, newest, closing. Statuses: open, awaiting_answer,
    answered, closed. ``addressee`` is an organisation slug; ``territory`` a territory code that
    includes everything below it."""
    if sort not in services.SORTS:
        return _refused(RuleError("Choose an order from the list.", "sort"))
    if status and status not in services.LIST_STATUSES:
        return _refused(RuleError("Choose a status from the list.", "status"))
    result = await services.list_petitions(sort=sort, status=status, organisation=addressee, territory=territory,
                                           page=max(1, page))
    return Response({"petitions": [_card(r) for r in result.items], "page": result.page,
                     "has_next": result.has_next})


async def _visible(request: Request, key: str) -> dict:
    petition = await services.get_by_key(key)
    if petition is None or not await services.may_see(current_user(request), petition):
        raise NotFoundException()
    return petition


@get("/api/v1/petitions/{key:str}", tags=TAGS, summary="Read a petition")
async def read_petition(request: Request, key: FromPath[str]) -> Response:
    petition = await _visible(request, key)
    official = [{"state": r["state"], "received_on": _plain(r["received_on"]),
                 "due_on": _plain(r["effective_due_on"]), "light": r["light"], "answered_on": _plain(r["answered_on"]),
                 "answer": r["answer"] if r["answer_is_public"] else None, "url": f"/responses/{r['id']}"}
                for r in await services.official_responses(petition["id"])]
    districts = [{"district": r["code"] or None, "name": r["name_en"] or r["name_kk"] or None,
                  "signatures": r["signatures"]} for r in await services.counts_by_district(petition["id"])]
    return Response({
        "key": petition["key"], "title": petition["title"], "ask": petition["ask"], "reasons": petition["reasons"],
        "status": petition["status"], "state": petition["state"], "addressee": petition["organisation_slug"],
        "territory": petition["territory_code"], "author": petition["author_name"], "lang": petition["lang"],
        "signature_count": petition["signature_count"], "signature_threshold": petition["signature_threshold"],
        "listing_threshold": petition["listing_threshold"], "listed": petition["listed_at"] is not None,
        "signing_open": petition["signing_open"], "signing_level": petition["signing_level"],
        "submitted_at": _plain(petition["submitted_at"]), "opened_at": _plain(petition["opened_at"]),
        "closes_at": _plain(petition["closes_at"]), "threshold_reached_at": _plain(petition["threshold_reached_at"]),
        "answered_at": _plain(petition["answered_at"]), "closed_at": _plain(petition["closed_at"]),
        "outcome": petition["outcome"] or None, "outcome_reasons": petition["outcome_reasons"] or None,
        "signatures_by_district": districts, "official_responses": official, "url": f"/petitions/{petition['key']}",
    })


async def _petition_id(key: str) -> int:
    petition_id = await KEYS.id_of(key)
    if petition_id is None:
        raise NotFoundException()
    return petition_id


@post("/api/v1/petitions/{key:str}/sign", tags=TAGS, summary="Sign a petition", guards=[confirmed],
      status_code=200)
async def sign(request: Request, state: State, key: FromPath[str]) -> Response:
    """Body (optional): ``{"hide_name": true}`` to keep one's name off the public list of signers."""
    body = await request.body()
    try:
        data = msgspec.json.decode(body, type=SignIn) if body.strip() else SignIn()
    except msgspec.DecodeError:
        return Response({"status_code": 400, "detail": _("The request body must be JSON like {\"hide_name\": true}."),
                         "field": None}, status_code=400)
    petition_id = await _petition_id(key)
    try:
        result = await services.sign(state.settings, current_user(request), petition_id,
                                     show_name=not data.hide_name, address=client_address(request))
    except RuleError as exc:
        return _refused(exc)
    return Response({"signed": True, "changed": result.changed, "signature_count": result.signature_count})


@delete("/api/v1/petitions/{key:str}/sign", tags=TAGS, summary="Withdraw a signature", guards=[confirmed],
        status_code=200)
async def withdraw(request: Request, key: FromPath[str]) -> Response:
    petition_id = await _petition_id(key)
    try:
        result = await services.withdraw(current_user(request), petition_id)
    except RuleError as exc:
        return _refused(exc)
    return Response({"signed": False, "changed": result.changed, "signature_count": result.signature_count})


def router() -> Router:
    return Router(path="/", route_handlers=[list_petitions, read_petition, sign, withdraw])
