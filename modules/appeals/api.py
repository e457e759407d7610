"""The appeals JSON API under ``/api/v1/appeals``.

Writes need a personal API token (``Authorization: Bearer …``, made at ``/account/tokens``);
reads accept the token or the signed-in session.

* ``GET  /api/v1/appeals/vocabulary`` — kinds, categories, channels and territory codes.
* ``POST /api/v1/appeals`` — file an appeal: ``{"kind": "complaint", "category": "energy",
  "title": "…", "text": "…", "territory": "almaty.bostandyk", "publish_consent": false}``.
  201 with the appeal; 400 ``{"detail", "field"}`` for bad input; 403 without a confirmed
  e-mail; 409 ``{"detail", "existing"}`` when the same person filed the same appeal less than
  15 days ago; 429 when filing too often. Attachments are filed through the web form only.
* ``GET  /api/v1/appeals`` — one's own appeals; ``GET /api/v1/appeals/{number}`` — one of them
  (also for staff of the body holding it).
* ``GET  /api/v1/appeals/{number}/status`` — the public status by number (no personal data).
* ``GET  /api/v1/appeals/{number}/eotinish`` — the export for registering the appeal in
  e-Otinish (staff of the holding body only; it holds the applicant's personal data).

The e-Otinish export format is :data:`EXPORT_DESCRIPTION` (also the OpenAPI description of
``/api/v1/appeals/{number}/eotinish`` at ``/schema/openapi.json``).
"""

from __future__ import annotations

import json

from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.params import FromPath

from civic.accounts.guards import current_user, signed_in
from civic.i18n.runtime import N_, gettext as _
from civic.rules import Denied, NotFound, RuleError
from civic.territory.tables import Territory, TerritoryKind
from modules.appeals import services

TAGS = ["appeals"]


NO_SUCH_APPEAL = N_("There is no appeal with this number.")
NOT_JSON = N_("The request body must be a JSON object.")


def _status_json(appeal: dict) -> dict:
    """What anybody may know by the number."""
    return {
        "number": appeal["number"], "kind": appeal["kind"], "category": appeal["category"],
        "territory": appeal["territory_code"], "status": appeal["status"], "received_on": _iso(appeal["received_on"]),
        "due_on": _iso(appeal["effective_due_on"]), "light": appeal["light"],
        "organisation": appeal["holder_slug"], "duplicate_of": appeal["duplicate_of_number"] or None,
        "rerouted": bool(appeal["forward_count"]),
        "published": ({"title": appeal["public_title"], "text": appeal["public_body"],
                       "answer": appeal["public_answer"] or None} if appeal["is_published"] else None),
        "url": f"/appeals/{appeal['number']}",
    }


def _own_json(appeal: dict) -> dict:
    return {
        **_status_json(appeal), "title": appeal["title"], "text": appeal["body"], "channel": appeal["channel"],
        "publish_consent": appeal["publish_consent"], "answer": appeal.get("answer") or None,
        "answered_on": _iso(appeal["answered_on"]), "eotinish_number": appeal["eotinish_number"] or None,
        "response_url": f"/responses/{appeal['response']}" if appeal["response"] else None,
    }


def _iso(value):
    return value.isoformat() if value is not None else None


async def _appeal_or_404(number: str) -> dict | None:
    canonical = services.normalise_number(number)
    return await services.get_appeal(canonical) if canonical else None


@get("/vocabulary", tags=TAGS, summary="Kinds, categories, channels and territories of appeals")
async def vocabulary() -> Response:
    territories = await Territory.select(Territory.code, Territory.kind, Territory.name_kk, Territory.name_ru,
                                         Territory.name_en).where(
        Territory.kind.is_in([TerritoryKind.CITY, TerritoryKind.DISTRICT, TerritoryKind.RURAL_OKRUG,
                              TerritoryKind.REGION])).order_by(Territory.path)
    return Response({
        "kinds": {k: _(v) for k, v in services.KINDS.items()},
        "categories": {k: _(v) for k, v in services.CATEGORIES.items()},
        "channels": {k: _(v) for k, v in services.CHANNELS.items()},
        "territories": territories,
    })


@post("/", tags=TAGS, summary="File an appeal", guards=[signed_in], status_code=201)
async def file(request: Request, state: State) -> Response:
    """File a request, complaint or proposal. The body: ``kind``, ``category``, ``title``,
    ``text``, ``territory`` (a territory code from ``/vocabulary``) and ``publish_consent``
    (whether the answer may be published after officials remove personal data)."""
    try:
        data = await request.json()
    except Exception:  # noqa: BLE001 - anything that is not JSON
        raise RuleError(NOT_JSON) from None
    if not isinstance(data, dict):
        raise RuleError(NOT_JSON)

    def field(name: str) -> str:
        value = data.get(name)
        return value if isinstance(value, str) else ""

    territory = None
    if field("territory"):
        territory = await Territory.select(Territory.id).where(Territory.code == field("territory")[:64]).first()
    consent = data.get("publish_consent", False)
    if not isinstance(consent, bool):
        raise RuleError(N_("publish_consent must be true or false."), "publish_consent")
    user = current_user(request)
    try:
        appeal = await services.file_appeal(
            state.settings, user, kind=field("kind"), category=field("category"), title=field("title"),
            body=field("text") or field("body"), territory_id=territory["id"] if territory else None,
            publish_consent=consent, channel="api")
    except RuleError as exc:  # the API calls the text "text" where the form calls it "body"
        exc.field = {"body": "text"}.get(exc.field, exc.field)
        raise
    return Response(_own_json(appeal), status_code=201, headers={"location": f"/api/v1/appeals/{appeal['number']}"})


@get("/", tags=TAGS, summary="Your own appeals", guards=[signed_in])
async def own(request: Request) -> Response:
    return Response({"appeals": [_own_json(a) for a in await services.appeals_of(current_user(request)["id"])]})


@get("/{number:str}", tags=TAGS, summary="One of your appeals", guards=[signed_in])
async def one(request: Request, number: FromPath[str]) -> Response:
    appeal = await _appeal_or_404(number)
    if appeal is None:
        raise NotFound(NO_SUCH_APPEAL)
    if not await services.may_see_full(current_user(request), appeal):
        raise Denied(N_("Only the applicant and the staff handling the appeal read it."))
    return Response(_own_json(appeal))


@get("/{number:str}/status", tags=TAGS, summary="The public status of an appeal by its number")
async def status(number: FromPath[str]) -> Response:
    appeal = await _appeal_or_404(number)
    if appeal is None:
        raise NotFound(NO_SUCH_APPEAL)
    return Response(_status_json(appeal))


EXPORT_DESCRIPTION = """The appeal for registering it in e-Otinish, the state's legal channel for appeals; staff
of the body holding the appeal only (it holds the applicant's personal data).

The e-Otinish export (``"format": "ashyq.appeal.eotinish/1"``) is one JSON object:

``number``
    the end-to-end number, e.g. ``ALM-2026-000123``;
``eotinish_number``
    the number e-Otinish gave once registered, or null;
``kind``
    ``{"code": "request"|"complaint"|"proposal", "kk": "Сұраныс"|"Шағым"|"Ұсыныс", "ru": …}``;
``category``, ``channel``, ``language``
    codes as in ``/vocabulary``; the language of the text (kk, ru, en);
``received_on``, ``registered_at``
    the registration date (Asia/Almaty; the legal term counts from it) and the moment, ISO 8601;
``territory``
    ``{"code", "path", "name_kk", "name_ru"}``;
``addressee``, ``first_addressee``
    the body holding the appeal now and the one it was first routed to: ``{"slug", "name_kk",
    "name_ru", "name_en"}``;
``co_addressees``
    other bodies of a joint answer: ``[{"slug", "name_kk", "name_ru", "contribution_given"}]``;
``applicant``
    ``{"name", "email", "contact", "has_account"}``;
``subject``, ``text``
    the applicant's own words;
``attachments``
    ``[{"filename", "content_type", "size", "sha256"}]`` (the files are downloaded separately);
``deadline``
    ``{"due_on", "extended_until", "extension_reason"}``;
``status``, ``answer``
    ``"open"`` or ``"answered"``; ``{"text", "answered_on"}`` or null;
``duplicate_of``
    the number of the appeal it is joined to, or null;
``publish_consent``
    whether the applicant allowed publication;
``history``
    ``[{"at", "event", "organisation"}]`` in time order.
"""


@get("/{number:str}/eotinish", tags=TAGS, summary="Export for registering the appeal in e-Otinish",
     description=EXPORT_DESCRIPTION, guards=[signed_in])
async def eotinish(request: Request, number: FromPath[str]) -> Response:
    """See :data:`EXPORT_DESCRIPTION`: the appeal in the e-Otinish export format."""
    appeal = await _appeal_or_404(number)
    if appeal is None:
        raise NotFound(NO_SUCH_APPEAL)
    if not await services.may_handle(current_user(request), appeal):
        raise Denied(N_("Only the staff handling the appeal export it."))
    body = json.dumps(await services.eotinish_export(appeal), ensure_ascii=False, indent=2)
    return Response(body.encode("utf-8"), media_type="application/json",
                    headers={"content-disposition": f'attachment; filename="{appeal["number"]}.json"',
                             "cache-control": "private, no-store"})


def router() -> Router:
    return Router(path="/api/v1/appeals", route_handlers=[vocabulary, file, own, one, status, eotinish])
