"""Pages of the appeals module: thin handlers — parse, call a service, render.

Every action is a plain form post that redirects on success, so everything works without
JavaScript; htmx only shows similar published appeals while a subject is typed. Refusals come
back as the page with the message in the reader's language: 400 for bad input, 403 for a
refusal of permission, 404 for what does not exist (or may not be seen), 409 for the 15-day
re-filing rule — never a 500.
"""

from __future__ import annotations

import csv
import io
from datetime import date, time, timedelta

from litestar import Request, Response, Router, get, post
from litestar.datastructures import State, UploadFile
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery

from babel.dates import format_date, format_datetime, format_time

from civic import uploads
from civic.accounts.services import normalise_email, user_by_email
from civic.accounts.guards import at_least, current_user, signed_in
from civic.accounts.verification import Level
from civic.i18n.runtime import N_, current_language, gettext as _, localized
from civic.rules import RuleError
from civic.territory.tables import Organisation, Territory, TerritoryKind
from civic.web.flash import flash
from civic.web.forms import form_data, integer, text
from civic.web.pages import page, see_other
from search.backend import SearchUnavailable
from modules.appeals import receptions, services
from modules.appeals.services import Upload
from modules.appeals.tables import AppealAttachment, ReceptionBooking

confirmed = at_least(Level.EMAIL_CONFIRMED)
MAX_UPLOAD_BYTES = services.MAX_ATTACHMENTS * services.MAX_ATTACHMENT_BYTES + 1024 * 1024
FILE_FIELDS = ("kind", "category", "title", "body", "territory", "attachments", "publish_consent", "channel",
               "applicant_name", "applicant_contact", "applicant_email", "organisation")
LIGHTS = {"green": N_("on time"), "amber": N_("due soon"), "red": N_("overdue"), "done": N_("answered")}


# --------------------------------------------------------------------------- helpers


def labels() -> dict:
    """Every vocabulary of the module, translated for the reader."""
    return {
        "kind": {k: _(v) for k, v in services.KINDS.items()},
        "category": {k: _(v) for k, v in services.CATEGORIES.items()},
        "channel": {k: _(v) for k, v in services.CHANNELS.items()},
        "status": {k: _(v) for k, v in services.STATUS_LABELS.items()},
        "event": {k: _(v) for k, v in services.EVENT_LABELS.items()},
        "light": {k: _(v) for k, v in LIGHTS.items()},
        "mode": {k: _(v) for k, v in receptions.MODES.items()},
        "outcome": {k: _(v) for k, v in receptions.OUTCOMES.items()},
    }


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _time(value: str) -> time | None:
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


def slot_time(slot: dict) -> str:
    """"Tuesday, 3 December 2026, 10:00–12:00" in the reader's language, Almaty time."""
    language = current_language()
    start, end = receptions.local(slot["starts_at"]), receptions.local(slot["ends_at"])
    try:
        return f"{format_datetime(start, 'EEEE, d MMMM y, HH:mm', locale=language)}–" \
               f"{format_time(end, 'HH:mm', locale=language)}"
    except Exception:  # noqa: BLE001 - a locale without the data
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


def month_name(key: str) -> str:
    year, month = (int(p) for p in key.split("-"))
    try:
        return format_date(date(year, month, 1), "LLLL y", locale=current_language())
    except Exception:  # noqa: BLE001
        return key


def short_month(key: str) -> str:
    year, month = (int(p) for p in key.split("-"))
    try:
        return format_date(date(year, month, 1), "LLL yy", locale=current_language())
    except Exception:  # noqa: BLE001
        return key


async def territory_groups() -> list[tuple[str, list[dict]]]:
    """Cities, districts and rural okrugs in tree order, grouped under their parent."""
    rows = await Territory.select(
        Territory.id, Territory.code, Territory.path, Territory.kind, Territory.name_kk, Territory.name_ru,
        Territory.name_en, Territory.parent.name_kk.as_alias("parent_name_kk"),
        Territory.parent.name_ru.as_alias("parent_name_ru"), Territory.parent.name_en.as_alias("parent_name_en"),
    ).where(Territory.kind.is_in([TerritoryKind.CITY, TerritoryKind.DISTRICT, TerritoryKind.RURAL_OKRUG,
                                  TerritoryKind.REGION])).order_by(Territory.path)
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(localized(row, "parent_name") or "—", []).append(row)
    return list(groups.items())


async def _organisation_choices() -> list[dict]:
    return await Organisation.select(Organisation.id, Organisation.slug, Organisation.kind, Organisation.name_kk,
                                     Organisation.name_ru, Organisation.name_en).where(
        Organisation.kind.is_in(["akimat", "department"])).order_by(Organisation.slug)


async def _appeal_or_404(number: str) -> dict:
    canonical = services.normalise_number(number)
    appeal = await services.get_appeal(canonical) if canonical else None
    if appeal is None:
        raise NotFoundException()
    return appeal


def _back(appeal: dict, anchor: str = "") -> Response:
    return see_other(f"/appeals/{appeal['number']}/full" + (f"#{anchor}" if anchor else ""))


# --------------------------------------------------------------------------- the window


@get("/appeals", name="appeals:index")
async def index(request: Request) -> Response:
    return page(request, "appeals/index.html", await _index_context(request))


async def _index_context(request: Request, error: str = "", number: str = "") -> dict:
    user = current_user(request)
    return {"labels": labels(), "published": await services.recently_published(), "user": user,
            "staff": await services.is_staff(user), "lookup_error": error, "lookup_number": number}


@get("/appeals/lookup")
async def lookup(request: Request, number: FromQuery[str | None] = None) -> Response:
    """The status form on the first page (a plain GET form): on to the status page."""
    typed = (number or "")[:40]
    canonical = services.normalise_number(typed)
    if canonical is None:
        return page(request, "appeals/index.html", await _index_context(
            request, _("An appeal number looks like ALM-2026-000123."), typed), status_code=400)
    if await services.get_appeal(canonical) is None:
        return page(request, "appeals/index.html", await _index_context(
            request, _("There is no appeal with this number."), typed), status_code=404)
    return see_other(f"/appeals/{canonical}")


async def _form_context(request: Request, *, values: dict, errors: dict, staff: bool = False,
                        existing: str | None = None) -> dict:
    return {"values": values, "errors": errors, "labels": labels(), "territory_groups": await territory_groups(),
            "staff": staff, "staff_channels": services.STAFF_CHANNELS, "existing": existing,
            "organisations": await _organisation_choices() if staff else [],
            "max_attachments": services.MAX_ATTACHMENTS,
            "max_attachment_mb": services.MAX_ATTACHMENT_BYTES // (1024 * 1024)}


@get("/appeals/new", guards=[confirmed])
async def new_form(request: Request) -> Response:
    user = current_user(request)
    values = {"territory": user.get("residence"), "kind": "request"}
    return page(request, "appeals/form.html", await _form_context(request, values=values, errors={}))


async def _uploads(form) -> list[Upload]:
    files = []
    for n in range(1, services.MAX_ATTACHMENTS + 1):
        upload = form.get(f"attachment_{n}")
        if isinstance(upload, UploadFile) and (upload.filename or ""):
            files.append(Upload(upload.filename, await upload.read()))
    return files


def _form_values(data: dict) -> dict:
    values = {k: text(data, k, 10_000) for k in ("kind", "category", "title", "body", "channel", "applicant_name",
                                                 "applicant_contact", "applicant_email")}
    values["territory"] = integer(data, "territory")
    values["organisation"] = integer(data, "organisation")
    values["publish_consent"] = text(data, "publish_consent") == "yes"
    return values


async def _read_form(request: Request) -> tuple[dict, list[Upload]]:
    form = await request.form()
    data = {key: form.get(key) for key in form.keys() if not isinstance(form.get(key), UploadFile)}
    return data, await _uploads(form)


@post("/appeals/new", guards=[confirmed], request_max_body_size=MAX_UPLOAD_BYTES)
async def file_appeal(request: Request, state: State) -> Response:
    data, files = await _read_form(request)
    values = _form_values(data)
    if text(data, "website"):  # honeypot: a person never fills this hidden field
        return see_other("/appeals")
    try:
        appeal = await services.file_appeal(
            state.settings, current_user(request), kind=values["kind"], category=values["category"],
            title=values["title"], body=values["body"], territory_id=values["territory"],
            publish_consent=values["publish_consent"], attachments=files)
    except services.RefilingBlocked as exc:
        return page(request, "appeals/form.html", await _form_context(
            request, values=values, errors={"__all__": exc.translated()}, existing=exc.existing), status_code=409)
    except RuleError as exc:
        if exc.status_code == 403:
            raise
        field = exc.field if exc.field in FILE_FIELDS else "__all__"
        return page(request, "appeals/form.html", await _form_context(
            request, values=values, errors={field: exc.translated()}), status_code=exc.status_code)
    flash(request, _("Your appeal is registered under number %(number)s. Keep the number: it stays the same in "
                     "every body that handles it.", number=appeal["number"]), "success")
    return see_other(f"/appeals/{appeal['number']}/full")


@get("/appeals/mine", guards=[signed_in])
async def mine(request: Request) -> Response:
    user = current_user(request)
    return page(request, "appeals/mine.html", {"appeals": await services.appeals_of(user["id"]), "labels": labels()})


# --------------------------------------------------------------------------- status and the full appeal


@get("/appeals/{number:str}", name="appeals:status")
async def status(request: Request, number: FromPath[str]) -> Response:
    """The public status page: no personal data — neither the citizen, nor the original
    text, nor an unpublished answer."""
    appeal = await _appeal_or_404(number)
    user = current_user(request)
    may_open = await services.may_see_full(user, appeal)
    response = page(request, "appeals/status.html", {
        "appeal": appeal, "labels": labels(), "events": await services.timeline(appeal), "may_open": may_open,
        "duplicates_count": len(await services.duplicates_of(appeal["id"])),
    })
    return response


async def _full_context(request: Request, state: State, appeal: dict, *, errors: dict | None = None,
                        values: dict | None = None) -> dict:
    user = current_user(request)
    handler = await services.may_handle(user, appeal)
    contributing = await services.contributing_organisations(user, appeal)
    participants = await services.participant_organisations(appeal["id"])
    context = {
        "appeal": appeal, "labels": labels(), "user": user, "handler": handler, "contributing": contributing,
        "is_citizen": bool(user) and appeal["citizen"] == user["id"],
        "participants": participants, "attachments": await services.attachments_of(appeal["id"]),
        "duplicates": await services.duplicates_of(appeal["id"]),
        "events": await services.timeline(appeal, include_private=handler or bool(contributing)),
        "errors": errors or {}, "values": values or {}, "similar": [], "same_place": [], "similar_error": False,
        "organisations": [], "answer_valid_days": services.ANSWER_VALID_DAYS,
    }
    if handler:
        try:
            context["similar"] = await services.similar_appeals(state.search, appeal)
        except SearchUnavailable:
            context["similar_error"] = True
        context["same_place"] = await services.same_place_open_appeals(appeal, user)
        taken = {appeal["holder"], *(p["organisation"] for p in participants)}
        context["organisations"] = [o for o in await _organisation_choices() if o["id"] not in taken]
        names = [n for n in (appeal.get("citizen_name"), appeal.get("applicant_name")) if n]
        context["draft"] = {
            "public_title": appeal["public_title"] or services.redact(appeal["title"], names, appeal.get("applicant_contact") or ""),
            "public_body": appeal["public_body"] or services.redact(appeal["body"], names, appeal.get("applicant_contact") or ""),
            "public_answer": appeal["public_answer"] or services.redact(appeal.get("answer") or "", names, appeal.get("applicant_contact") or ""),
            **(values or {}),
        }
    return context


async def _full_page(request: Request, state: State, number: str, *, errors: dict | None = None,
                     values: dict | None = None, status_code: int = 200) -> Response:
    appeal = await _appeal_or_404(number)
    if not await services.may_see_full(current_user(request), appeal):
        raise PermissionDeniedException()
    return page(request, "appeals/full.html", await _full_context(request, state, appeal, errors=errors,
                                                                  values=values), status_code=status_code)


@get("/appeals/{number:str}/full", guards=[signed_in])
async def full(request: Request, state: State, number: FromPath[str]) -> Response:
    return await _full_page(request, state, number)


@get("/appeals/attachments/{attachment_id:int}", guards=[signed_in])
async def attachment(request: Request, state: State, attachment_id: FromPath[int]) -> Response:
    """An attachment, only for the citizen and the staff who may see the whole appeal: the type
    found in its bytes, always downloaded (never shown inline), never cached, sandboxed."""
    row = await AppealAttachment.select().where(
        AppealAttachment.id == (services.db_id(attachment_id) or -1)).first()
    appeal = await services.get_appeal_by_id(row["appeal"]) if row else None
    if appeal is None:
        raise NotFoundException()
    if not await services.may_see_full(current_user(request), appeal):
        raise PermissionDeniedException()
    return uploads.file_response(state.settings, "appeals", row["stored_name"], row["content_type"], row["filename"],
                                 inline=False, public=False)


async def _act(request: Request, state: State, number: str, work, success: str, anchor: str = "",
               field_values: tuple[str, ...] = ()) -> Response:
    """Run a staff or citizen action on an appeal: success flashes and goes back to the full
    page; a refusal shows that page again with the message (400/403)."""
    appeal = await _appeal_or_404(number)
    data = await form_data(request)
    try:
        await work(appeal, data)
    except RuleError as exc:
        if exc.status_code in (403, 404) or not await services.may_see_full(current_user(request), appeal):
            raise
        values = {k: text(data, k, 20_000) for k in field_values}
        return await _full_page(request, state, number, errors={exc.field if exc.field != "__all__" else anchor
                                                                or "__all__": exc.translated()},
                                values=values, status_code=exc.status_code)
    flash(request, success, "success")
    return _back(await services.get_appeal_by_id(appeal["id"]), anchor)


@post("/appeals/{number:str}/consent", guards=[signed_in])
async def consent(request: Request, state: State, number: FromPath[str]) -> Response:
    async def work(appeal, data):
        await services.set_consent(current_user(request), appeal["id"], text(data, "publish_consent") == "yes")

    return await _act(request, state, number, work, _("Your choice is saved."), "publication")


@post("/appeals/{number:str}/answer", guards=[signed_in])
async def answer(request: Request, state: State, number: FromPath[str]) -> Response:
    async def work(appeal, data):
        await services.answer(current_user(request), appeal["id"], text(data, "answer", 20_000))

    return await _act(request, state, number, work, _("The answer is sent to the citizen."), "answer", ("answer",))


@post("/appeals/{number:str}/participants", guards=[signed_in])
async def add_participant(request: Request, state: State, number: FromPath[str]) -> Response:
    async def work(appeal, data):
        await services.add_participant(current_user(request), appeal["id"], integer(data, "organisation"))

    return await _act(request, state, number, work, _("The body is asked for its part of the answer."),
                      "participants")


@post("/appeals/{number:str}/participants/{organisation_id:int}/remove", guards=[signed_in])
async def remove_participant(request: Request, state: State, number: FromPath[str],
                             organisation_id: FromPath[int]) -> Response:
    async def work(appeal, data):
        await services.remove_participant(current_user(request), appeal["id"], organisation_id)

    return await _act(request, state, number, work, _("The body no longer takes part."), "participants")


@post("/appeals/{number:str}/contribution", guards=[signed_in])
async def contribution(request: Request, state: State, number: FromPath[str]) -> Response:
    async def work(appeal, data):
        await services.contribute(current_user(request), appeal["id"], integer(data, "organisation"),
                                  text(data, "contribution", 20_000))

    return await _act(request, state, number, work, _("Your body's part is saved."), "participants",
                      ("contribution",))


@post("/appeals/{number:str}/join", guards=[signed_in])
async def join(request: Request, state: State, number: FromPath[str]) -> Response:
    async def work(appeal, data):
        await services.join(current_user(request), appeal["id"], text(data, "primary", 40))

    return await _act(request, state, number, work,
                      _("Joined: one answer now serves both appeals."), "duplicates", ("primary",))


@post("/appeals/{number:str}/detach", guards=[signed_in])
async def detach(request: Request, state: State, number: FromPath[str]) -> Response:
    async def work(appeal, data):
        await services.detach(current_user(request), appeal["id"])

    return await _act(request, state, number, work, _("The appeal is separated and gets its own answer."),
                      "duplicates")


@post("/appeals/{number:str}/publication", guards=[signed_in])
async def publication(request: Request, state: State, number: FromPath[str]) -> Response:
    async def work(appeal, data):
        if text(data, "action") == "unpublish":
            await services.unpublish(current_user(request), appeal["id"])
        else:
            await services.publish(current_user(request), appeal["id"], public_title=text(data, "public_title", 1000),
                                   public_body=text(data, "public_body", 20_000),
                                   public_answer=text(data, "public_answer", 20_000))

    return await _act(request, state, number, work, _("The publication is updated."), "publication",
                      ("public_title", "public_body", "public_answer"))


@post("/appeals/{number:str}/eotinish", guards=[signed_in])
async def eotinish(request: Request, state: State, number: FromPath[str]) -> Response:
    async def work(appeal, data):
        await services.set_eotinish_number(current_user(request), appeal["id"], text(data, "eotinish_number", 100))

    return await _act(request, state, number, work, _("The e-Otinish number is saved."), "eotinish",
                      ("eotinish_number",))


# --------------------------------------------------------------------------- staff


async def _require_staff(request: Request) -> dict:
    user = current_user(request)
    if not await services.is_staff(user):
        raise PermissionDeniedException()
    return user


@get("/appeals/staff", guards=[signed_in])
async def staff_list(request: Request, status_filter: FromQuery[str | None] = None,
                     category: FromQuery[str | None] = None, channel: FromQuery[str | None] = None) -> Response:
    user = await _require_staff(request)
    filters = {"status_filter": status_filter if status_filter is not None else services.OPEN,
               "category": category or "", "channel": channel or ""}
    errors = {}
    if filters["status_filter"] not in ("", *services.STATUS_LABELS):
        errors["status_filter"] = _("Choose a status from the list.")
    if filters["category"] and filters["category"] not in services.CATEGORIES:
        errors["category"] = _("Choose a category from the list.")
    if filters["channel"] and filters["channel"] not in services.CHANNELS:
        errors["channel"] = _("Choose a channel from the list.")
    items = [] if errors else await services.staff_list(
        user, status=filters["status_filter"] or None, category=filters["category"] or None,
        channel=filters["channel"] or None)
    return page(request, "appeals/staff.html", {"items": items, "filters": filters, "errors": errors,
                                                "labels": labels(), "may_route": await services.may_manage_routing(user)},
                status_code=400 if errors else 200)


@get("/appeals/staff/new", guards=[signed_in])
async def staff_form(request: Request) -> Response:
    await _require_staff(request)
    return page(request, "appeals/form.html", await _form_context(
        request, values={"kind": "request", "channel": "phone"}, errors={}, staff=True))


@post("/appeals/staff/new", guards=[signed_in], request_max_body_size=MAX_UPLOAD_BYTES)
async def staff_register(request: Request, state: State) -> Response:
    official = await _require_staff(request)
    data, files = await _read_form(request)
    values = _form_values(data)
    try:
        citizen = None
        if values["applicant_email"]:
            citizen = await user_by_email(normalise_email(values["applicant_email"]))
            if citizen is None or citizen["deleted_at"]:
                raise RuleError(N_("No account has this e-mail address. Leave it empty and write the applicant's "
                                     "name and contact instead."), "applicant_email")
        appeal = await services.file_appeal(
            state.settings, citizen, kind=values["kind"], category=values["category"], title=values["title"],
            body=values["body"], territory_id=values["territory"], publish_consent=values["publish_consent"],
            attachments=files, channel=values["channel"], registered_by=official,
            applicant_name=values["applicant_name"], applicant_contact=values["applicant_contact"],
            organisation_id=values["organisation"])
    except services.RefilingBlocked as exc:
        return page(request, "appeals/form.html", await _form_context(
            request, values=values, errors={"__all__": exc.translated()}, staff=True, existing=exc.existing),
            status_code=409)
    except RuleError as exc:
        if exc.status_code == 403:
            raise
        field = exc.field if exc.field in FILE_FIELDS else "__all__"
        return page(request, "appeals/form.html", await _form_context(
            request, values=values, errors={field: exc.translated()}, staff=True), status_code=exc.status_code)
    flash(request, _("The appeal is registered under number %(number)s. Tell the applicant the number.",
                     number=appeal["number"]), "success")
    return see_other(f"/appeals/{appeal['number']}/full")


@get("/appeals/staff/routing", guards=[signed_in])
async def routing(request: Request) -> Response:
    user = current_user(request)
    if not await services.may_manage_routing(user):
        raise PermissionDeniedException()
    return await _routing_page(request, {}, {})


async def _routing_page(request: Request, values: dict, errors: dict, status_code: int = 200) -> Response:
    return page(request, "appeals/routing.html", {
        "rules": await services.routing_rules(), "labels": labels(), "values": values, "errors": errors,
        "territory_groups": await territory_groups(), "organisations": await _organisation_choices(),
    }, status_code=status_code)


@post("/appeals/staff/routing", guards=[signed_in])
async def save_routing(request: Request) -> Response:
    user = current_user(request)
    if not await services.may_manage_routing(user):
        raise PermissionDeniedException()
    data = await form_data(request)
    values = {"category": text(data, "category", 20), "territory": integer(data, "territory"),
              "organisation": integer(data, "organisation")}
    try:
        await services.set_routing_rule(user, category=values["category"], territory_id=values["territory"],
                                        organisation_id=values["organisation"])
    except RuleError as exc:
        if exc.status_code == 403:
            raise
        return await _routing_page(request, values, {exc.field: exc.translated()}, status_code=400)
    flash(request, _("The routing rule is saved."), "success")
    return see_other("/appeals/staff/routing")


# --------------------------------------------------------------------------- analysis


async def _analysis_filters(request: Request) -> tuple[services.AnalysisFilters, dict, dict]:
    params = request.query_params
    raw = {k: (params.get(k) or "").strip()[:100] for k in ("months", "category", "district", "organisation",
                                                            "channel")}
    errors = {}
    months = 12
    if raw["months"]:
        months = int(raw["months"]) if raw["months"].isdigit() else 0
        if months not in services.PERIODS:
            errors["months"] = _("Choose a period from the list.")
            months = 12
    if raw["category"] and raw["category"] not in services.CATEGORIES:
        errors["category"] = _("Choose a category from the list.")
    if raw["channel"] and raw["channel"] not in services.CHANNELS:
        errors["channel"] = _("Choose a channel from the list.")
    districts = await _districts()
    if raw["district"] and raw["district"] not in {d["path"] for d in districts}:
        errors["district"] = _("Choose a district from the list.")
    organisations = await _organisation_choices()
    if raw["organisation"] and raw["organisation"] not in {o["slug"] for o in organisations}:
        errors["organisation"] = _("Choose a body from the list.")
    filters = services.AnalysisFilters(
        months=months, category="" if "category" in errors else raw["category"],
        district="" if "district" in errors else raw["district"],
        organisation="" if "organisation" in errors else raw["organisation"],
        channel="" if "channel" in errors else raw["channel"])
    return filters, errors, {"districts": districts, "organisations": organisations}


async def _districts() -> list[dict]:
    return await Territory.select(Territory.path, Territory.name_kk, Territory.name_ru, Territory.name_en).where(
        Territory.kind.is_in([TerritoryKind.CITY, TerritoryKind.DISTRICT, TerritoryKind.REGION])
    ).order_by(Territory.path)


async def _place_names(paths: set[str]) -> dict[str, str]:
    if not paths:
        return {}
    rows = await Territory.select(Territory.path, Territory.name_kk, Territory.name_ru, Territory.name_en).where(
        Territory.path.is_in(sorted(paths)))
    return {r["path"]: localized(r, "name") for r in rows}


@get("/appeals/analysis")
async def analysis(request: Request) -> Response:
    filters, errors, choices = await _analysis_filters(request)
    result = await services.analysis(filters)
    names = await _place_names({d["key"] for d in result["dimensions"]["district"]})
    vocab = labels()

    def label(dimension: str, item: dict) -> str:
        key = item["key"]
        if dimension == "category":
            return vocab["category"].get(key, key)
        if dimension == "channel":
            return vocab["channel"].get(key, key)
        if dimension == "kind":
            return vocab["kind"].get(key, key)
        if dimension == "district":
            return names.get(key, key)
        return localized(item["sample"], "holder_name") or key

    for dimension, items in result["dimensions"].items():
        for item in items:
            item["label"] = label(dimension, item)
    return page(request, "appeals/analysis.html", {
        "result": result, "filters": filters, "errors": errors, "labels": vocab, "periods": services.PERIODS,
        "month_name": month_name, "short_month": short_month, **choices,
        "csv_url": "/appeals/analysis.csv" + (f"?{request.url.query}" if request.url.query else ""),
    }, status_code=400 if errors else 200)


@get("/appeals/analysis.csv")
async def analysis_csv(request: Request) -> Response:
    filters, errors, _choices = await _analysis_filters(request)
    if errors:
        return Response("; ".join(errors.values()), status_code=400, media_type="text/plain; charset=utf-8")
    result = await services.analysis(filters)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=services.CSV_FIELDS)
    writer.writeheader()
    for row in services.analysis_csv_rows(result["rows"]):
        writer.writerow(row)
    return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="ashyq-appeals-analysis.csv"'})


# --------------------------------------------------------------------------- receptions


@get("/appeals/receptions")
async def reception_list(request: Request, host: FromQuery[str | None] = None,
                         department: FromQuery[str | None] = None) -> Response:
    hosts = await receptions.hosts()
    departments = await Organisation.select(Organisation.slug, Organisation.name_kk, Organisation.name_ru,
                                            Organisation.name_en).where(Organisation.kind == "department").order_by(
        Organisation.slug)
    errors = {}
    if host and host not in {h["slug"] for h in hosts}:
        errors["host"] = _("Choose a district akimat from the list.")
    if department and department not in {d["slug"] for d in departments}:
        errors["department"] = _("Choose a department from the list.")
    slots = [] if errors else await receptions.upcoming_slots(host_slug=host or None,
                                                              organisation_slug=department or None)
    weeks: dict[date, list[dict]] = {}
    for slot in slots:
        weeks.setdefault(slot["week"], []).append(slot)
    return page(request, "appeals/receptions.html", {
        "weeks": list(weeks.items()), "hosts": hosts, "departments": departments, "errors": errors,
        "filters": {"host": host or "", "department": department or ""}, "labels": labels(),
        "slot_time": slot_time, "user": current_user(request),
    }, status_code=400 if errors else 200)


async def _slot_or_404(slot_id: int) -> dict:
    slot = await receptions.get_slot(slot_id)
    if slot is None:
        raise NotFoundException()
    return slot


async def _slot_page(request: Request, slot_id: int, *, error: str = "", status_code: int = 200) -> Response:
    slot = await _slot_or_404(slot_id)
    user = current_user(request)
    booking = await receptions.booking_of(user["id"], slot_id) if user else None
    return page(request, "appeals/reception_slot.html", {
        "slot": slot, "booking": booking, "user": user, "labels": labels(), "slot_time": slot_time,
        "error": error, "may_record": await receptions.may_record(user, slot),
    }, status_code=status_code)


@get("/appeals/receptions/{slot_id:int}")
async def reception_slot(request: Request, slot_id: FromPath[int]) -> Response:
    return await _slot_page(request, slot_id)


@post("/appeals/receptions/{slot_id:int}/book", guards=[confirmed])
async def book(request: Request, slot_id: FromPath[int]) -> Response:
    data = await form_data(request)
    try:
        await receptions.book(current_user(request), slot_id, text(data, "question", receptions.QUESTION_LENGTH))
    except RuleError as exc:
        if exc.status_code in (403, 404):
            raise
        return await _slot_page(request, slot_id, error=exc.translated(), status_code=exc.status_code)
    flash(request, _("Your place is booked. You will be reminded the day before."), "success")
    return see_other("/appeals/receptions/mine")


@get("/appeals/receptions/mine", guards=[signed_in])
async def my_bookings(request: Request) -> Response:
    return page(request, "appeals/reception_mine.html", {
        "bookings": await receptions.bookings_of_person(current_user(request)["id"]), "labels": labels(),
        "slot_time": slot_time})


@post("/appeals/receptions/bookings/{booking_id:int}/cancel", guards=[signed_in])
async def cancel_booking(request: Request, booking_id: FromPath[int]) -> Response:
    await receptions.cancel_booking(current_user(request), booking_id)
    flash(request, _("Your booking is cancelled."), "success")
    return see_other("/appeals/receptions/mine")


async def _staff_receptions_page(request: Request, *, values: dict, errors: dict, status_code: int = 200) -> Response:
    user = current_user(request)
    departments = await receptions.departments_for(user)
    if not departments:
        raise PermissionDeniedException()
    organisations = await services.staff_organisations(user)
    slots = await receptions.upcoming_slots(organisation_ids=organisations, include_past_days=14)
    return page(request, "appeals/reception_staff.html", {
        "departments": departments, "hosts": await receptions.hosts(),
        "specialists": await receptions.specialists_of([d["id"] for d in departments]), "slots": slots,
        "values": values, "errors": errors, "labels": labels(), "slot_time": slot_time,
        "max_weeks": receptions.MAX_WEEKS,
    }, status_code=status_code)


@get("/appeals/receptions/staff", guards=[signed_in])
async def reception_staff(request: Request) -> Response:
    today = services.almaty_today()
    return await _staff_receptions_page(request, values={
        "first_day": (today + timedelta(days=7 - today.weekday() + 1)).isoformat(), "start_time": "10:00",
        "duration_minutes": 120, "capacity": 10, "weeks": 4, "mode": "in_person"}, errors={})


@post("/appeals/receptions/staff", guards=[signed_in])
async def publish_receptions(request: Request) -> Response:
    data = await form_data(request)
    values = {k: text(data, k, 1000) for k in ("topics", "place", "mode", "online_link", "first_day", "start_time")}
    for key in ("organisation", "host", "specialist", "duration_minutes", "capacity", "weeks"):
        values[key] = integer(data, key)
    try:
        ids = await receptions.publish_weekly(
            current_user(request), organisation_id=values["organisation"], host_id=values["host"],
            specialist_id=values["specialist"], topics=values["topics"], place=values["place"], mode=values["mode"],
            online_link=values["online_link"], first_day=_date(values["first_day"]),
            start_time=_time(values["start_time"]), duration_minutes=values["duration_minutes"],
            capacity=values["capacity"], weeks=values["weeks"])
    except RuleError as exc:
        if exc.status_code == 403:
            raise
        return await _staff_receptions_page(request, values=values, errors={exc.field: exc.translated()},
                                            status_code=400)
    flash(request, _("%(count)s receptions are published.", count=len(ids)), "success")
    return see_other("/appeals/receptions/staff")


@post("/appeals/receptions/{slot_id:int}/cancel", guards=[signed_in])
async def cancel_slot(request: Request, slot_id: FromPath[int]) -> Response:
    data = await form_data(request)
    told = await receptions.cancel_slot(current_user(request), slot_id, text(data, "reason", 1000))
    flash(request, _("The reception is cancelled; %(count)s booked people are told.", count=told), "success")
    return see_other("/appeals/receptions/staff")


async def _visitors_page(request: Request, slot_id: int, *, errors: dict | None = None, values: dict | None = None,
                         status_code: int = 200) -> Response:
    slot = await _slot_or_404(slot_id)
    if not await receptions.may_record(current_user(request), slot):
        raise PermissionDeniedException()
    return page(request, "appeals/reception_visitors.html", {
        "slot": slot, "bookings": await receptions.bookings_of_slot(slot_id), "labels": labels(),
        "slot_time": slot_time, "errors": errors or {}, "values": values or {},
        "territory_groups": await territory_groups(),
    }, status_code=status_code)


@get("/appeals/receptions/{slot_id:int}/visitors", guards=[signed_in])
async def visitors(request: Request, slot_id: FromPath[int]) -> Response:
    return await _visitors_page(request, slot_id)


def _appeal_fields(data: dict) -> dict:
    return {"kind": text(data, "kind", 20), "category": text(data, "category", 20), "title": text(data, "title", 1000),
            "body": text(data, "body", 10_000), "territory_id": integer(data, "territory"),
            "publish_consent": text(data, "publish_consent") == "yes",
            "applicant_contact": text(data, "applicant_contact", 300)}


@post("/appeals/receptions/bookings/{booking_id:int}/outcome", guards=[signed_in])
async def outcome(request: Request, state: State, booking_id: FromPath[int]) -> Response:
    booking = await ReceptionBooking.select(ReceptionBooking.slot).where(
        ReceptionBooking.id == (services.db_id(booking_id) or -1)).first()
    if booking is None:
        raise NotFoundException()
    data = await form_data(request)
    try:
        appeal_id = await receptions.record_outcome(state.settings, current_user(request), booking_id,
                                                    text(data, "outcome", 20), text(data, "note", 2000),
                                                    _appeal_fields(data))
    except RuleError as exc:
        if exc.status_code in (403, 404):
            raise
        return await _visitors_page(request, booking["slot"], errors={f"booking-{booking_id}": exc.translated()},
                                    values={f"booking-{booking_id}": {k: text(data, k, 10_000) for k in data}},
                                    status_code=exc.status_code)
    await _outcome_flash(request, appeal_id)
    return see_other(f"/appeals/receptions/{booking['slot']}/visitors")


async def _outcome_flash(request: Request, appeal_id: int | None) -> None:
    if appeal_id:
        appeal = await services.get_appeal_by_id(appeal_id)
        flash(request, _("The outcome is recorded and the appeal registered under number %(number)s.",
                         number=appeal["number"]), "success")
    else:
        flash(request, _("The outcome is recorded."), "success")


@post("/appeals/receptions/{slot_id:int}/walk-in", guards=[signed_in])
async def walk_in(request: Request, state: State, slot_id: FromPath[int]) -> Response:
    data = await form_data(request)
    try:
        appeal_id = await receptions.record_walk_in(
            state.settings, current_user(request), slot_id, visitor_name=text(data, "visitor_name", 300),
            question=text(data, "question", 2000), outcome=text(data, "outcome", 20), note=text(data, "note", 2000),
            appeal=_appeal_fields(data))
    except RuleError as exc:
        if exc.status_code in (403, 404):
            raise
        return await _visitors_page(request, slot_id, errors={"walk_in": exc.translated()},
                                    values={"walk_in": {k: text(data, k, 10_000) for k in data}},
                                    status_code=exc.status_code)
    await _outcome_flash(request, appeal_id)
    return see_other(f"/appeals/receptions/{slot_id}/visitors")


@get("/appeals/receptions/dashboard")
async def dashboard(request: Request) -> Response:
    return page(request, "appeals/reception_dashboard.html", {
        "data": await receptions.dashboard(), "labels": labels(), "month_name": month_name,
        "short_month": short_month})


def router() -> Router:
    return Router(path="/", route_handlers=[
        index, lookup, new_form, file_appeal, mine, status, full, attachment, consent, answer, add_participant,
        remove_participant, contribution, join, detach, publication, eotinish, staff_list, staff_form,
        staff_register, routing, save_routing, analysis, analysis_csv, reception_list, reception_slot, book,
        my_bookings, cancel_booking, reception_staff, publish_receptions, cancel_slot, visitors, outcome, walk_in,
        dashboard,
    ])
