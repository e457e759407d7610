"""Pages and htmx fragments of the petitions module: thin handlers — parse, call a service, render.

Every action is a plain form post that redirects on success, so it works without JavaScript;
htmx enhances signing and the list filters by swapping one block of the same template.
Refusals re-render the page with the message in the reader's language (400, 403, 404 or 429
without JavaScript; htmx swaps only 2xx answers, so a fragment carrying a refusal comes with
200). A petition's address is its random key: a link-only petition cannot be found by
counting ids.
"""

from __future__ import annotations

import csv
import io
import json
from collections import OrderedDict
from datetime import datetime

from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from civic.accounts.guards import at_least, current_user, signed_in
from civic.accounts.routes import client_address
from civic.accounts.verification import Level
from civic.i18n.runtime import N_, gettext as _, localized
from civic.rules import Denied, NotFound, RuleError
from civic.territory.tables import Organisation
from civic.web.flash import flash
from civic.web.forms import form_data, integer, text
from civic.web.pages import page, see_other
from modules.petitions import services

from modules.petitions.tables import Petition

confirmed = at_least(Level.EMAIL_CONFIRMED)
FORM_FIELDS = ("title", "ask", "reasons", "organisation", "territory")
ALMATY = services.responses.ALMATY


# --------------------------------------------------------------------------- helpers


def labels() -> dict:
    """Every vocabulary of the module, translated for the reader (blocks rendered alone need them)."""
    return {
        "status": {k: _(v) for k, v in services.STATUS_LABELS.items()},
        "outcome": {k: _(v) for k, v in services.OUTCOMES.items()},
        "topic": {k: _(v) for k, v in services.PROHIBITED_TOPICS.items()},
        "sort": {k: _(v) for k, v in services.SORTS.items()},
        "level": {k: _(v) for k, v in services.LEVEL_NAMES.items()},
        "light": {"green": _("on time"), "amber": _("due soon"), "red": _("overdue"), "done": _("answered")},
        "event": {
            "submitted": _("Sent for moderation"), "opened": _("Published: signing opened"),
            "listed": _("Listed publicly"), "threshold": _("Reached the threshold: an official answer is due"),
            "answered": _("Answered officially"), "outcome": _("Outcome recorded"), "closed": _("Signing closed"),
            "anonymised": _("Signers' personal data anonymised"), "rejected": _("Not published by the moderator"),
        },
        "criterion": {"address": _("the same network address"), "domain": _("the same e-mail domain"),
                      "window": _("a time window")},
    }


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


def _message(exc: RuleError) -> str:
    return _(exc.msgid, **exc.params)


def _refusal_page(request: Request, exc: RuleError) -> Response:
    if isinstance(exc, NotFound):
        raise NotFoundException()
    title = _("Access denied") if exc.status_code == 403 else _("This could not be done")
    return page(request, "core/error.html", {"title": title, "message": _message(exc),
                                             "status_code": exc.status_code}, status_code=exc.status_code)


def _noindex(response: Response, petition: dict) -> Response:
    """A petition reachable by its link only must not be found through search engines either."""
    if petition["status"] in ("moderation", "rejected", "link_only"):
        response.headers["x-robots-tag"] = "noindex"
    return response


class KeyCache:
    """Petition key -> id, kept in memory: keys and ids never change, and signing is the hot path."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.ids: OrderedDict[str, int] = OrderedDict()

    async def id_of(self, key: str) -> int | None:
        found = self.ids.get(key)
        if found is not None:
            self.ids.move_to_end(key)
            return found
        if not key or len(key) > 16:
            return None
        row = await Petition.select(Petition.id).where(Petition.key == key).first()
        if row is None:
            return None
        self.ids[key] = row["id"]
        if len(self.ids) > self.size:
            self.ids.popitem(last=False)
        return row["id"]


KEYS = KeyCache()


async def _petition_for_page(request: Request, key: str) -> dict:
    petition = await services.get_by_key(key)
    if petition is None or not await services.may_see(current_user(request), petition):
        raise NotFoundException()  # nobody else learns that it exists
    return petition


async def _signing_context(request: Request, petition: dict, error: str = "", notice: str = "") -> dict:
    user = current_user(request)
    return {"petition": petition, "user": user, "signature": await services.signature_of(user, petition["id"]),
            "signing_error": error, "signing_notice": notice, "labels": labels()}


async def detail_context(request: Request, petition: dict, *, errors: dict | None = None,
                         values: dict | None = None) -> dict:
    user = current_user(request)
    moderator = await services.may_moderate(user, petition["organisation"])
    staff = await services.may_answer(user, petition["organisation"])
    districts = await services.counts_by_district(petition["id"])
    signers, more_signers = await services.public_signers(petition["id"], per_page=10)
    topics = []
    if moderator and petition["state"] == services.MODERATION:
        topics = list((await services.rules_for(petition["organisation"])).prohibited_topics)
    responses = await services.official_responses(petition["id"])
    open_response = next((r for r in responses if r["state"] in services.responses.ResponseState.OPEN), None)
    errors = errors or {}
    may_record_outcome = staff and petition["answered_at"] is not None and not petition["outcome"]
    shown = set()  # the forms on the page that show their own errors
    if petition["state"] in (services.OPEN, services.CLOSED):
        shown.add("signing")
    if staff and open_response:
        shown.add("answer")
    if may_record_outcome:
        shown.update({"outcome", "reasons"})
    if moderator and petition["state"] == services.MODERATION:
        shown.update({"reason", "moderation", "__all__"})
    return {
        **await _signing_context(request, petition, errors.get("signing", "")),
        "page_errors": [message for key, message in errors.items() if key not in shown],
        "districts": services.chart_bars(districts),
        "district_total": sum(r["signatures"] for r in districts),
        "signers": signers, "more_signers": more_signers,
        "responses": responses, "open_response": open_response,
        "moderator": moderator, "staff": staff, "topics": topics,
        "timeline": services.timeline(petition),
        "may_record_outcome": may_record_outcome,
        "errors": errors, "values": values or {},
    }


async def _detail_page(request: Request, key: str, *, errors: dict | None = None, values: dict | None = None,
                       status_code: int = 200, done: str | None = None) -> Response:
    petition = await _petition_for_page(request, key)
    context = await detail_context(request, petition, errors=errors, values=values)
    # after a plain form post: say what happened, if it is still true
    signed = context["signature"] is not None and context["signature"]["valid"]
    if (done == "signed" and signed) or (done == "withdrawn" and context["signature"] is None and context["user"]):
        context["signing_notice"] = _(DONE_NOTICES[done])
    return _noindex(page(request, "petitions/detail.html", context, status_code=status_code), petition)


# --------------------------------------------------------------------------- lists


def list_url(filters: dict, **changes) -> str:
    """A shareable address of a list: only the filters that differ from the defaults."""
    from urllib.parse import urlencode

    params = {**filters, **changes}
    query = {k: v for k, v in params.items()
             if v not in ("", None) and not (k == "sort" and v == "signatures") and not (k == "page_number" and v == 1)}
    return "/petitions" + (f"?{urlencode(query)}" if query else "")


@get("/petitions", name="petitions:list")
async def petition_list(request: Request, sort: FromQuery[str | None] = None, status: FromQuery[str | None] = None,
                        addressee: FromQuery[str | None] = None, territory: FromQuery[str | None] = None,
                        page_number: FromQuery[int] = 1) -> Response:
    filters = {"sort": sort or "signatures", "status": status or "", "addressee": addressee or "",
               "territory": territory or ""}
    errors = {}
    if filters["sort"] not in services.SORTS:
        errors["sort"] = _("Choose an order from the list.")
    if filters["status"] and filters["status"] not in services.LIST_STATUSES:
        errors["status"] = _("Choose a status from the list.")
    organisations = await services.addressees()
    if filters["addressee"] and filters["addressee"] not in {o["slug"] for o in organisations}:
        errors["addressee"] = _("Choose an addressee from the list.")
    territories = await services.territory_choices()
    if filters["territory"] and filters["territory"] not in {t["code"] for t in territories}:
        errors["territory"] = _("Choose a territory from the list.")
    result = None
    if not errors:
        result = await services.list_petitions(sort=filters["sort"], status=filters["status"] or None,
                                               organisation=filters["addressee"] or None,
                                               territory=filters["territory"] or None, page=max(1, page_number))
    return page(request, "petitions/list.html", {
        "result": result, "filters": filters, "errors": errors, "organisations": organisations,
        "territories": territories, "labels": labels(), "user": current_user(request), "list_url": list_url,
        "list_statuses": services.LIST_STATUSES,
        "is_moderator": await services.is_moderator_anywhere(current_user(request)),
    }, status_code=400 if errors and not _is_htmx(request) else 200, block="results")


@get("/petitions/mine", guards=[signed_in])
async def mine(request: Request) -> Response:
    user = current_user(request)
    return page(request, "petitions/mine.html", {
        "petitions": await services.petitions_of_author(user["id"]),
        "signatures": await services.petitions_signed_by(user["id"]), "labels": labels()})


# --------------------------------------------------------------------------- drafting


async def _form_context(values: dict, errors: dict) -> dict:
    organisations = await services.addressees()
    groups: dict[str, list[dict]] = {}
    territories = await services.territory_choices()
    names = {t["path"]: localized(t, "name") for t in territories}
    for organisation in organisations:
        groups.setdefault(names.get(organisation["territory_path"], "—"), []).append(organisation)
    return {"values": values, "errors": errors, "organisation_groups": list(groups.items()),
            "territories": territories, "labels": labels(), "lengths": {
                "title": services.TITLE_LENGTH, "ask": services.ASK_LENGTH, "reasons": services.REASONS_LENGTH}}


@get("/petitions/new", guards=[confirmed])
async def new_form(request: Request, addressee: FromQuery[str | None] = None) -> Response:
    user = current_user(request)
    values = {"territory": user.get("residence")}
    if addressee:
        row = await Organisation.select(Organisation.id).where(Organisation.slug == addressee).first()
        if row:
            values["organisation"] = row["id"]
    return page(request, "petitions/form.html", await _form_context(values, {}))


@post("/petitions/new", guards=[confirmed])
async def submit(request: Request, state: State) -> Response:
    data = await form_data(request)
    values = {"title": text(data, "title", 1000), "ask": text(data, "ask", 20_000),
              "reasons": text(data, "reasons", 20_000), "organisation": integer(data, "organisation"),
              "territory": integer(data, "territory")}
    if text(data, "website"):  # honeypot: a person never fills this hidden field
        return see_other("/petitions")
    try:
        petition = await services.submit(state.settings, current_user(request), organisation_id=values["organisation"],
                                         territory_id=values["territory"], title=values["title"], ask=values["ask"],
                                         reasons=values["reasons"])
    except RuleError as exc:
        if exc.status_code in (403, 429):
            return _refusal_page(request, exc)
        field = exc.field if exc.field in FORM_FIELDS else "__all__"
        return page(request, "petitions/form.html", await _form_context(values, {field: _message(exc)}),
                    status_code=400)
    flash(request, _("Thank you! Your petition is sent for moderation. A moderator decides by %(date)s.",
                     date=petition["moderation_due_on"].isoformat()), "success")
    return see_other(f"/petitions/{petition['key']}")


# --------------------------------------------------------------------------- moderation and rules


@get("/petitions/moderation", guards=[signed_in])
async def moderation_queue(request: Request) -> Response:
    try:
        queue = await services.moderation_queue(current_user(request))
    except RuleError as exc:
        return _refusal_page(request, exc)
    topics = {}
    for petition in queue["pending"]:
        organisation = petition["organisation"]
        if organisation not in topics:
            topics[organisation] = list((await services.rules_for(organisation)).prohibited_topics)
    return page(request, "petitions/moderation.html", {"queue": queue, "topics": topics, "labels": labels()})


@get("/petitions/rules", guards=[signed_in])
async def rules_index(request: Request) -> Response:
    organisations = await services.rule_organisations_of(current_user(request))
    if not organisations:
        return _refusal_page(request, Denied(
            N_("Only an administrator of the organisation may change its rules for petitions.")))
    return page(request, "petitions/rules_index.html", {"organisations": organisations})


async def _rules_context(request: Request, organisation: dict, errors: dict, values: dict | None = None) -> dict:
    settings = request.app.state.settings
    rules = await services.rules_for(organisation["id"], settings)
    configured = rules.configured
    shown = values if values is not None else {
        name: "" if configured.get(name) is None else str(configured[name]) for name in services.RULE_FIELDS}
    topics = values.get("prohibited_topics") if values is not None else list(rules.prohibited_topics)
    return {"organisation": organisation, "rules": rules, "values": shown, "chosen_topics": topics or [],
            "errors": errors, "labels": labels(), "bounds": services.RULE_BOUNDS,
            "defaults": await services.defaults_for(organisation["id"], settings)}


async def _rules_organisation(request: Request, slug: str) -> dict:
    organisation = await Organisation.select().where(Organisation.slug == slug).first()
    if organisation is None or organisation["kind"] not in services.ADDRESSEE_KINDS:
        raise NotFoundException()
    return organisation


@get("/petitions/rules/{slug:str}", guards=[signed_in])
async def rules_form(request: Request, slug: FromPath[str]) -> Response:
    organisation = await _rules_organisation(request, slug)
    if not await services.may_set_rules(current_user(request), organisation["id"]):
        return _refusal_page(request, Denied(
            N_("Only an administrator of the organisation may change its rules for petitions.")))
    return page(request, "petitions/rules.html", await _rules_context(request, organisation, {}))


@post("/petitions/rules/{slug:str}", guards=[signed_in])
async def save_rules(request: Request, slug: FromPath[str]) -> Response:
    organisation = await _rules_organisation(request, slug)
    form = await request.form()
    values = {name: str(form.get(name) or "").strip()[:20] for name in services.RULE_FIELDS}
    topics = [str(t) for t in form.getall("prohibited_topics", [])][:50]
    try:
        await services.set_rules(current_user(request), organisation["id"], values, topics)
    except RuleError as exc:
        if exc.status_code != 400:
            return _refusal_page(request, exc)
        return page(request, "petitions/rules.html", await _rules_context(
            request, organisation, {exc.field: _message(exc)}, {**values, "prohibited_topics": topics}),
            status_code=400)
    flash(request, _("The rules for petitions are saved. Running petitions keep the rules they opened with."),
          "success")
    return see_other(f"/petitions/rules/{slug}")


# --------------------------------------------------------------------------- open data


@get("/petitions/export.csv")
async def export_csv(request: Request) -> Response:
    rows = await services.export_rows(request.app.state.settings.base_url)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=services.EXPORT_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        row = dict(row)
        row["signatures_by_district"] = "; ".join(f"{k}={v}" for k, v in row["signatures_by_district"].items())
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="ashyq-petitions.csv"'})


@get("/petitions/export.json")
async def export_json(request: Request) -> Response:
    rows = await services.export_rows(request.app.state.settings.base_url)
    return Response(json.dumps({"petitions": rows}, ensure_ascii=False), media_type="application/json",
                    headers={"content-disposition": 'attachment; filename="ashyq-petitions.json"'})


# --------------------------------------------------------------------------- the petition page


@get("/petitions/{key:str}", name="petitions:detail")
async def detail(request: Request, key: FromPath[str], done: FromQuery[str | None] = None) -> Response:
    return await _detail_page(request, key, done=done)


@get("/petitions/{key:str}/signers")
async def signers(request: Request, key: FromPath[str], page_number: FromQuery[int] = 1) -> Response:
    petition = await _petition_for_page(request, key)
    if petition["state"] not in (services.OPEN, services.CLOSED):
        raise NotFoundException()
    rows, more = await services.public_signers(petition["id"], max(1, page_number))
    return _noindex(page(request, "petitions/signers.html", {
        "petition": petition, "signers": rows, "more": more, "page_number": max(1, page_number)}), petition)


async def _signing_answer(request: Request, key: str, action, done: str) -> Response:
    """Sign or withdraw: htmx gets the signing block back; a plain form post is redirected to the
    page, which then says what happened (``?done=signed``: no session write on the hot path)."""
    petition_id = await KEYS.id_of(key)
    if petition_id is None:
        raise NotFoundException()
    try:
        result = await action(petition_id)
    except NotFound:
        raise NotFoundException() from None
    except RuleError as exc:
        if not _is_htmx(request):
            return await _detail_page(request, key, errors={"signing": _message(exc)}, status_code=exc.status_code)
        petition = await _petition_for_page(request, key)
        return page(request, "petitions/detail.html", await _signing_context(request, petition, _message(exc)),
                    block="signing")
    if _is_htmx(request):
        petition = await _petition_for_page(request, key)
        notice = _(DONE_NOTICES[done]) if result.changed else ""
        return page(request, "petitions/detail.html", await _signing_context(request, petition, notice=notice),
                    block="signing")
    return see_other(f"/petitions/{key}?done={done}#signing" if result.changed else f"/petitions/{key}#signing")


DONE_NOTICES = {"signed": N_("Thank you! Your signature is counted."), "withdrawn": N_("Your signature is withdrawn.")}


@post("/petitions/{key:str}/sign", guards=[confirmed])
async def sign(request: Request, state: State, key: FromPath[str]) -> Response:
    data = await form_data(request)
    show_name = text(data, "hide_name", 10) not in ("on", "yes", "1", "true")
    address = client_address(request)
    user = current_user(request)

    async def action(petition_id: int):
        return await services.sign(state.settings, user, petition_id, show_name=show_name, address=address)

    return await _signing_answer(request, key, action, "signed")


@post("/petitions/{key:str}/withdraw", guards=[signed_in])
async def withdraw(request: Request, key: FromPath[str]) -> Response:
    user = current_user(request)

    async def action(petition_id: int):
        return await services.withdraw(user, petition_id)

    return await _signing_answer(request, key, action, "withdrawn")


async def _staff_action(request: Request, key: str, work, success: str, anchor: str = "") -> Response:
    petition = await services.get_by_key(key)
    if petition is None:
        raise NotFoundException()
    data = await form_data(request)
    try:
        await work(petition, data)
    except NotFound:
        raise NotFoundException() from None
    except RuleError as exc:
        if exc.status_code != 400:
            return _refusal_page(request, exc)
        field = exc.field if exc.field != "__all__" else anchor or "__all__"
        return await _detail_page(request, key, errors={field: _message(exc)},
                                  values={k: v for k, v in data.items() if isinstance(v, str)}, status_code=400)
    flash(request, success, "success")
    return see_other(f"/petitions/{key}" + (f"#{anchor}" if anchor else ""))


@post("/petitions/{key:str}/approve", guards=[signed_in])
async def approve(request: Request, state: State, key: FromPath[str]) -> Response:
    async def work(petition, data):
        await services.approve(state.settings, current_user(request), petition["id"])
    return await _staff_action(request, key, work, _("The petition is published. Signing is open."), "moderation")


@post("/petitions/{key:str}/reject", guards=[signed_in])
async def reject(request: Request, key: FromPath[str]) -> Response:
    async def work(petition, data):
        await services.reject(current_user(request), petition["id"], text(data, "reason", 30), text(data, "note", 2000))
    return await _staff_action(request, key, work, _("The petition is not published. The author is told why."),
                               "moderation")


@post("/petitions/{key:str}/answer", guards=[signed_in])
async def answer(request: Request, key: FromPath[str]) -> Response:
    async def work(petition, data):
        await services.answer(current_user(request), petition["id"], text(data, "answer", 20_000))
    return await _staff_action(request, key, work, _("The answer is published and every signer is told."), "answer")


@post("/petitions/{key:str}/outcome", guards=[signed_in])
async def outcome(request: Request, key: FromPath[str]) -> Response:
    async def work(petition, data):
        await services.record_outcome(current_user(request), petition["id"], text(data, "outcome", 20),
                                      text(data, "outcome_reasons", 10_000))
    return await _staff_action(request, key, work, _("The outcome is recorded and every signer is told."), "outcome")


# --------------------------------------------------------------------------- abuse review


async def _review_page(request: Request, key: str, errors: dict | None = None, values: dict | None = None,
                       status_code: int = 200) -> Response:
    petition = await services.get_by_key(key)
    if petition is None:
        raise NotFoundException()
    try:
        data = await services.review_data(current_user(request), petition["id"])
    except RuleError as exc:
        return _refusal_page(request, exc)
    return page(request, "petitions/review.html", {**data, "errors": errors or {}, "values": values or {},
                                                   "labels": labels()}, status_code=status_code)


@get("/petitions/{key:str}/review", guards=[signed_in])
async def review(request: Request, key: FromPath[str]) -> Response:
    return await _review_page(request, key)


def _local_datetime(value: str) -> datetime | None:
    """A datetime-local field, read as Almaty time."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ALMATY)


@post("/petitions/{key:str}/invalidate", guards=[signed_in])
async def invalidate(request: Request, key: FromPath[str]) -> Response:
    petition = await services.get_by_key(key)
    if petition is None:
        raise NotFoundException()
    data = await form_data(request)
    values = {k: text(data, k, 2000) for k in ("criterion", "value", "reason", "start", "end")}
    try:
        result = await services.invalidate(
            current_user(request), petition["id"], criterion=values["criterion"], value=values["value"],
            reason=values["reason"], start=_local_datetime(values["start"]), end=_local_datetime(values["end"]))
    except RuleError as exc:
        if exc.status_code != 400:
            return _refusal_page(request, exc)
        return await _review_page(request, key, {"__all__": _message(exc)}, values, status_code=400)
    flash(request, _("%(count)s signatures are struck out. The count went from %(before)s to %(after)s.",
                     count=result["count"], before=result["count_before"], after=result["count_after"]), "success")
    return see_other(f"/petitions/{key}/review")


@post("/petitions/{key:str}/review/done", guards=[signed_in])
async def review_done(request: Request, key: FromPath[str]) -> Response:
    petition = await services.get_by_key(key)
    if petition is None:
        raise NotFoundException()
    data = await form_data(request)
    try:
        await services.clear_review(current_user(request), petition["id"], text(data, "note", 500))
    except RuleError as exc:
        return _refusal_page(request, exc)
    flash(request, _("The review is done; the petition is no longer flagged."), "success")
    return see_other("/petitions/moderation")


def router() -> Router:
    return Router(path="/", route_handlers=[
        petition_list, mine, new_form, submit, moderation_queue, rules_index, rules_form, save_rules, export_csv,
        export_json, detail, signers, sign, withdraw, approve, reject, answer, outcome, review, invalidate,
        review_done,
    ])
