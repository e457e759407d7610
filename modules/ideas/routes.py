"""Pages and htmx fragments of the ideas module: thin handlers — parse, call a service, render.

Every action is a plain form post that redirects on success (so it works without JavaScript);
htmx enhances supporting, the discussion and the list filters by swapping one block of the same
template. Refusals re-render the page with the message in the reader's language: status 400
(403 for a refusal of permission) without JavaScript; htmx swaps only 2xx answers, so a fragment
carrying an error comes with 200.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from functools import lru_cache

from litestar import Request, Response, Router, get, post
from litestar.datastructures import State, UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from civic import uploads
from civic.accounts.guards import at_least, current_user, signed_in
from civic.accounts.services import over_rate_limit
from civic.accounts.verification import Level
from civic.engagement.levels import LEVEL_LABELS, LEVELS
from civic.i18n.runtime import N_, gettext as _
from civic.rules import Denied, NotFound, RuleError
from civic.territory.tables import Organisation
from civic.web.flash import flash
from civic.web.forms import form_data, integer, text
from civic.web.pages import page, see_other
from modules.ideas import services
from modules.ideas.services import ImageUpload
from modules.ideas.tables import IdeaImage, Milestone

confirmed = at_least(Level.EMAIL_CONFIRMED)
FORM_FIELDS = ("title", "body", "category", "territory", "cost_estimate", "images")
MAX_UPLOAD_BYTES = services.MAX_IMAGES * services.MAX_IMAGE_BYTES + 1024 * 1024


# --------------------------------------------------------------------------- helpers


def labels() -> dict:
    """Every vocabulary of the module, translated for the reader (blocks rendered alone need them)."""
    from civic.i18n.runtime import current_language

    return _labels(current_language())


@lru_cache(maxsize=8)
def _labels(language: str) -> dict:
    return {
        "status": {k: _(v) for k, v in services.STATUS_LABELS.items()},
        "category": {k: _(v) for k, v in services.CATEGORIES.items()},
        "reason": {k: _(v) for k, v in services.FLAG_REASONS.items()},
        "sort": {k: _(v) for k, v in services.SORTS.items()},
        "challenge_state": {k: _(v) for k, v in services.CHALLENGE_STATES.items()},
        "level": {k: _(LEVEL_LABELS[k]) for k in LEVELS},
        "light": {"green": _("on time"), "amber": _("due soon"), "red": _("overdue"), "done": _("answered")},
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


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


async def _idea_for_page(idea_id: int) -> dict:
    idea = await services.get_idea(idea_id)
    if idea is None:
        raise NotFoundException()
    return idea


async def _support_context(request: Request, idea: dict, error: str = "") -> dict:
    user = current_user(request)
    policy = await services.policy_for(idea["organisation"])
    return {"idea": idea, "viewer": await services.viewer_state(user, idea["id"]), "user": user,
            "threshold": policy["support_threshold"], "support_error": error, "labels": labels(),
            "supportable": idea["visibility"] == services.VISIBLE and idea["status"] in services.OPEN_STATUSES}


async def _discussion_context(request: Request, idea: dict, errors: dict | None = None,
                              values: dict | None = None) -> dict:
    user = current_user(request)
    moderator = await services.may_moderate(user, idea["organisation"])
    comments = await services.comments_of(idea["id"], user, moderator)
    now = services.now_utc()
    for comment in [c for top in comments for c in [top, *top["replies"]]]:
        comment["editable"] = bool(user) and comment["author"] == user["id"] and services.comment_editable(comment, now)
    return {"idea": idea, "comments": comments, "user": user, "moderator": moderator, "labels": labels(),
            "errors": errors or {}, "values": values or {},
            "may_discuss": idea["visibility"] == services.VISIBLE}


async def detail_context(request: Request, idea: dict, *, errors: dict | None = None,
                         values: dict | None = None) -> dict:
    user = current_user(request)
    moderator = await services.may_moderate(user, idea["organisation"])
    manager = await services.may_manage(user, idea)
    challenge = await services.get_challenge(idea["challenge"]) if idea["challenge"] else None
    context = {
        **await _support_context(request, idea, (errors or {}).get("support", "")),
        **await _discussion_context(request, idea, errors, values),
        "show_content": await services.may_see_content(user, idea),
        "images": await services.idea_images(idea["id"]),
        "history": await services.status_history(idea["id"]),
        "milestones": await services.milestones_of(idea["id"]),
        "versions": await services.versions_of(idea["id"]),
        "responses": await services.official_responses(idea["id"]),
        "challenge": challenge,
        "manager": manager,
        "moderator": moderator,
        "may_edit": await services.may_edit(user, idea),
        "may_shortlist": bool(challenge) and await services.may_run_challenges(user, challenge["organisation"]),
        "transitions": services.TRANSITIONS.get(idea["status"], ()),
        "delivery": idea["status"] in services.DELIVERY_STATUSES,
        "departments": await Organisation.select(Organisation.id, Organisation.name_kk, Organisation.name_ru,
                                                 Organisation.name_en).where(
            Organisation.kind.is_in(["department", "akimat"])).order_by(Organisation.slug) if manager else [],
        "errors": errors or {},
        "values": values or {},
    }
    return context


async def _detail_page(request: Request, idea_id: int, *, errors: dict | None = None, values: dict | None = None,
                       status_code: int = 200) -> Response:
    idea = await _idea_for_page(idea_id)
    user = current_user(request)
    if idea["visibility"] == services.PENDING and not await services.may_see_content(user, idea):
        raise NotFoundException()  # nobody else learns that it exists before moderation
    return page(request, "ideas/detail.html", await detail_context(request, idea, errors=errors, values=values),
                status_code=status_code)


def _back_to(idea_id: int, anchor: str = "") -> Response:
    return see_other(f"/ideas/{idea_id}" + (f"#{anchor}" if anchor else ""))


# --------------------------------------------------------------------------- lists


def list_url(filters: dict, **changes) -> str:
    """A shareable address of a list: only the filters that differ from the defaults."""
    from urllib.parse import urlencode

    params = {**filters, **changes}
    query = {k: v for k, v in params.items()
             if v not in ("", None) and not (k == "sort" and v == "new") and not (k == "page_number" and v == 1)}
    return "/ideas" + (f"?{urlencode(query)}" if query else "")


def _list_filters(sort, territory, category, status) -> tuple[dict, dict]:
    filters = {"sort": sort or "new", "territory": territory or "", "category": category or "",
               "status": status or ""}
    errors = {}
    if filters["sort"] not in services.SORTS:
        errors["sort"] = _("Choose an order from the list.")
    if filters["category"] and filters["category"] not in services.CATEGORIES:
        errors["category"] = _("Choose a category from the list.")
    if filters["status"] and filters["status"] not in services.STATUSES:
        errors["status"] = _("Choose a status from the list.")
    return filters, errors


@get("/ideas", name="ideas:list")
async def idea_list(request: Request, sort: FromQuery[str | None] = None, territory: FromQuery[str | None] = None,
                    category: FromQuery[str | None] = None, status: FromQuery[str | None] = None,
                    page_number: FromQuery[int] = 1) -> Response:
    filters, errors = _list_filters(sort, territory, category, status)
    territories = await services.filter_territories()
    if filters["territory"] and filters["territory"] not in {t["code"] for t in territories}:
        errors["territory"] = _("Choose a territory from the list.")
    result = None
    if not errors:
        result = await services.list_ideas(sort=filters["sort"], territory=filters["territory"] or None,
                                           category=filters["category"] or None, status=filters["status"] or None,
                                           page=max(1, page_number))
    user = current_user(request)
    return page(request, "ideas/list.html", {
        "result": result, "filters": filters, "errors": errors, "territories": territories, "labels": labels(),
        "user": user, "is_moderator": await services.is_moderator_anywhere(user), "list_url": list_url,
        "htmx": _is_htmx(request),
    }, status_code=400 if errors and not _is_htmx(request) else 200, block="results")


# --------------------------------------------------------------------------- proposing and editing


async def _form_context(request: Request, *, values: dict, errors: dict, challenge: dict | None = None,
                        idea: dict | None = None) -> dict:
    from civic.i18n.runtime import localized

    groups: dict[str, list[dict]] = {}
    for territory in await services.territory_choices():  # in tree order: grouped under their city or district
        groups.setdefault(localized(territory, "parent_name") or "—", []).append(territory)
    return {"values": values, "errors": errors, "labels": labels(), "challenge": challenge, "idea": idea,
            "territory_groups": list(groups.items()), "max_images": services.MAX_IMAGES,
            "max_image_mb": services.MAX_IMAGE_BYTES // (1024 * 1024)}


@get("/ideas/new", guards=[confirmed])
async def propose_form(request: Request, challenge: FromQuery[int | None] = None) -> Response:
    found = await services.get_challenge(challenge) if challenge else None
    if challenge and (found is None or found["visibility"] != services.VISIBLE):
        raise NotFoundException()
    user = current_user(request)
    values = {"territory": found["territory"] if found else user.get("residence")}
    return page(request, "ideas/form.html", await _form_context(request, values=values, errors={}, challenge=found))


async def _uploads(form) -> list[ImageUpload]:
    images = []
    for n in range(1, services.MAX_IMAGES + 1):
        upload = form.get(f"image_{n}")
        if isinstance(upload, UploadFile) and (upload.filename or ""):
            alt = form.get(f"alt_{n}")
            images.append(ImageUpload(upload.filename, await upload.read(), alt if isinstance(alt, str) else ""))
    return images


@post("/ideas/new", guards=[confirmed], request_max_body_size=MAX_UPLOAD_BYTES)
async def propose(request: Request, state: State) -> Response:
    form = await request.form()
    data = {key: form.get(key) for key in form.keys() if not isinstance(form.get(key), UploadFile)}
    values = {k: text(data, k, 10_000) for k in ("body", "category", "cost_estimate")}
    values["title"] = text(data, "title", 1000)
    values["territory"] = integer(data, "territory")
    challenge_id = integer(data, "challenge")
    challenge = await services.get_challenge(challenge_id) if challenge_id else None
    if text(data, "website"):  # honeypot: a person never fills this hidden field
        return see_other("/ideas")
    try:
        idea_id = await services.propose(
            state.settings, current_user(request), title=values["title"], body=values["body"],
            category=values["category"], territory_id=values["territory"], cost_estimate=values["cost_estimate"],
            challenge_id=challenge_id, images=await _uploads(form))
    except RuleError as exc:
        if exc.status_code == 403:
            return _refusal_page(request, exc)
        field = exc.field if exc.field in FORM_FIELDS else "__all__"
        return page(request, "ideas/form.html", await _form_context(
            request, values=values, errors={field: _message(exc)}, challenge=challenge), status_code=400)
    idea = await services.get_idea(idea_id)
    if idea["visibility"] == services.PENDING:
        flash(request, _("Thank you! Your idea will be published after a moderator checks it."), "success")
    else:
        flash(request, _("Thank you! Your idea is published."), "success")
    return see_other(f"/ideas/{idea_id}")


@get("/ideas/{idea_id:int}/edit", guards=[confirmed])
async def edit_form(request: Request, idea_id: FromPath[int]) -> Response:
    idea = await _idea_for_page(idea_id)
    if idea["author"] != current_user(request)["id"] or not await services.may_edit(current_user(request), idea):
        return _refusal_page(request, Denied(N_("This idea can no longer be edited.")))
    values = {"title": idea["title"], "body": idea["body"], "category": idea["category"],
              "cost_estimate": "" if idea["cost_estimate"] is None else str(idea["cost_estimate"]),
              "territory": idea["territory"]}
    return page(request, "ideas/form.html", await _form_context(request, values=values, errors={}, idea=idea))


@post("/ideas/{idea_id:int}/edit", guards=[confirmed])
async def edit(request: Request, state: State, idea_id: FromPath[int]) -> Response:
    idea = await _idea_for_page(idea_id)
    data = await form_data(request)
    values = {k: text(data, k, 10_000) for k in ("body", "category", "cost_estimate")}
    values["title"] = text(data, "title", 1000)
    try:
        versioned = await services.edit_idea(state.settings, current_user(request), idea_id, title=values["title"],
                                             body=values["body"], category=values["category"],
                                             cost_estimate=values["cost_estimate"])
    except RuleError as exc:
        if exc.status_code != 400 or exc.field == "__all__":
            return _refusal_page(request, exc)
        return page(request, "ideas/form.html", await _form_context(
            request, values=values, errors={exc.field: _message(exc)}, idea=idea), status_code=400)
    flash(request, _("Your changes are saved. The earlier text stays readable as a previous version.") if versioned
          else _("Your changes are saved."), "success")
    return see_other(f"/ideas/{idea_id}")


# --------------------------------------------------------------------------- the idea page


@get("/ideas/{idea_id:int}", name="ideas:detail")
async def detail(request: Request, idea_id: FromPath[int]) -> Response:
    return await _detail_page(request, idea_id)


async def _support_answer(request: Request, idea_id: int, action) -> Response:
    settings = request.app.state.settings
    user = current_user(request)
    error = ""
    try:
        if await over_rate_limit(settings, f"ideas:support:{user['id']}", services.SUPPORTS_PER_MINUTE,
                                 timedelta(minutes=1)):
            raise RuleError(N_("You are doing this too often. Please wait a minute and try again."))
        result = await action(user, idea_id)
    except NotFound:
        raise NotFoundException() from None
    except RuleError as exc:
        error = _message(exc)
        if not _is_htmx(request):
            return await _detail_page(request, idea_id, errors={"support": error}, status_code=exc.status_code)
    if _is_htmx(request):
        idea = await _idea_for_page(idea_id)
        return page(request, "ideas/detail.html", await _support_context(request, idea, error), block="support")
    if result.changed:
        flash(request, _("Thank you for your support.") if result.supported else _("Your support is withdrawn."),
              "success")
    return _back_to(idea_id, "support")


@post("/ideas/{idea_id:int}/support", guards=[confirmed])
async def support(request: Request, idea_id: FromPath[int]) -> Response:
    return await _support_answer(request, idea_id, services.support)


@post("/ideas/{idea_id:int}/support/withdraw", guards=[confirmed])
async def withdraw(request: Request, idea_id: FromPath[int]) -> Response:
    return await _support_answer(request, idea_id, services.withdraw_support)


@post("/ideas/{idea_id:int}/follow", guards=[signed_in])
async def follow(request: Request, idea_id: FromPath[int]) -> Response:
    data = await form_data(request)
    on = text(data, "follow") != "off"
    try:
        await services.follow(current_user(request), idea_id, on)
    except RuleError as exc:
        return _refusal_page(request, exc)
    flash(request, _("You will be told about changes and answers.") if on else _("You no longer follow this idea."),
          "success")
    return _back_to(idea_id, "support")


@post("/ideas/{idea_id:int}/comments", guards=[confirmed])
async def comment(request: Request, state: State, idea_id: FromPath[int]) -> Response:
    data = await form_data(request)
    body = text(data, "comment", 10_000)
    parent_id = integer(data, "parent")
    field = f"reply-{parent_id}" if parent_id else "comment"
    if text(data, "website"):  # honeypot
        return _back_to(idea_id, "discussion")
    errors: dict = {}
    comment_id = None
    try:
        comment_id = await services.add_comment(state.settings, current_user(request), idea_id, body, parent_id)
    except NotFound:
        raise NotFoundException() from None
    except RuleError as exc:
        errors = {field: _message(exc)}
        if not _is_htmx(request):
            return await _detail_page(request, idea_id, errors=errors, values={field: body},
                                      status_code=exc.status_code)
    pending = comment_id and (await services.get_comment(comment_id))["visibility"] == services.PENDING
    if _is_htmx(request):
        idea = await _idea_for_page(idea_id)
        context = await _discussion_context(request, idea, errors, {field: body} if errors else {})
        context["notice"] = (_("Your comment will appear after a moderator checks it.") if pending
                             else _("Your comment is published.") if comment_id else "")
        return page(request, "ideas/detail.html", context, block="discussion")
    flash(request, _("Your comment will appear after a moderator checks it.") if pending
          else _("Your comment is published."), "success")
    return _back_to(idea_id, f"comment-{comment_id}")


@get("/ideas/comments/{comment_id:int}/edit", guards=[confirmed])
async def comment_edit_form(request: Request, comment_id: FromPath[int]) -> Response:
    row = await services.get_comment(comment_id)
    if row is None:
        raise NotFoundException()
    if row["author"] != current_user(request)["id"] or not services.comment_editable(row):
        return _refusal_page(request, RuleError(
            N_("A comment can be edited only within 15 minutes of writing it.")))
    return page(request, "ideas/comment_edit.html", {"comment": row, "errors": {}, "values": {"comment": row["body"]}})


@post("/ideas/comments/{comment_id:int}/edit", guards=[confirmed])
async def comment_edit(request: Request, state: State, comment_id: FromPath[int]) -> Response:
    row = await services.get_comment(comment_id)
    if row is None:
        raise NotFoundException()
    data = await form_data(request)
    body = text(data, "comment", 10_000)
    try:
        await services.edit_comment(state.settings, current_user(request), comment_id, body)
    except RuleError as exc:
        if exc.field != "comment" or exc.status_code != 400:
            return _refusal_page(request, exc)
        return page(request, "ideas/comment_edit.html", {"comment": row, "errors": {"comment": _message(exc)},
                                                         "values": {"comment": body}}, status_code=400)
    flash(request, _("Your comment is corrected."), "success")
    return _back_to(row["idea"], f"comment-{comment_id}")


async def _flag(request: Request, kind: str, target_id: int, back: str, idea_id: int | None) -> Response:
    data = await form_data(request)
    try:
        await services.flag(request.app.state.settings, current_user(request), kind, target_id,
                            text(data, "reason", 20), text(data, "note", 1000))
    except NotFound:
        raise NotFoundException() from None
    except RuleError as exc:
        if idea_id is not None and exc.status_code == 400:
            return await _detail_page(request, idea_id, errors={f"flag-{kind}-{target_id}": _message(exc)},
                                      status_code=400)
        return _refusal_page(request, exc)
    flash(request, _("Thank you. A moderator will look at your report."), "success")
    return see_other(back)


@post("/ideas/{idea_id:int}/flag", guards=[signed_in])
async def flag_idea(request: Request, idea_id: FromPath[int]) -> Response:
    return await _flag(request, "idea", idea_id, f"/ideas/{idea_id}", idea_id)


@post("/ideas/comments/{comment_id:int}/flag", guards=[signed_in])
async def flag_comment(request: Request, comment_id: FromPath[int]) -> Response:
    row = await services.get_comment(comment_id)
    if row is None:
        raise NotFoundException()
    return await _flag(request, "comment", comment_id, f"/ideas/{row['idea']}#comment-{comment_id}", row["idea"])


# --------------------------------------------------------------------------- staff: status and delivery


async def _staff_action(request: Request, idea_id: int, work, success: str, anchor: str) -> Response:
    try:
        await work(await form_data(request))
    except NotFound:
        raise NotFoundException() from None
    except RuleError as exc:
        if exc.status_code == 403:
            return _refusal_page(request, exc)
        return await _detail_page(request, idea_id, errors={exc.field if exc.field != "__all__" else anchor:
                                                            _message(exc)}, status_code=400)
    flash(request, success, "success")
    return _back_to(idea_id, anchor)


@post("/ideas/{idea_id:int}/status", guards=[signed_in])
async def change_status(request: Request, idea_id: FromPath[int]) -> Response:
    async def work(data):
        await services.change_status(current_user(request), idea_id, text(data, "status", 20),
                                     text(data, "reason", 5000))
    return await _staff_action(request, idea_id, work, _("The status is changed and followers are told."), "status")


@post("/ideas/{idea_id:int}/implementation", guards=[signed_in])
async def implementation(request: Request, idea_id: FromPath[int]) -> Response:
    async def work(data):
        progress = integer(data, "progress")
        await services.set_implementation(current_user(request), idea_id, department_id=integer(data, "department"),
                                          budget_line=text(data, "budget_line", 200),
                                          progress=progress if progress is not None else -1)
    return await _staff_action(request, idea_id, work, _("The implementation record is updated."), "delivery")


@post("/ideas/{idea_id:int}/milestones", guards=[signed_in])
async def add_milestone(request: Request, idea_id: FromPath[int]) -> Response:
    async def work(data):
        progress = integer(data, "milestone_progress")
        await services.add_milestone(current_user(request), idea_id, title=text(data, "milestone_title", 200),
                                     due_on=_date(text(data, "milestone_due_on", 10)),
                                     progress=progress if progress is not None else -1)
    return await _staff_action(request, idea_id, work, _("The milestone is added."), "delivery")


@post("/ideas/milestones/{milestone_id:int}/done", guards=[signed_in])
async def milestone_done(request: Request, milestone_id: FromPath[int]) -> Response:
    row = await Milestone.select(Milestone.idea).where(Milestone.id == milestone_id).first()
    if row is None:
        raise NotFoundException()

    async def work(data):
        await services.complete_milestone(current_user(request), milestone_id,
                                          _date(text(data, "done_on", 10)) or None)
    return await _staff_action(request, row["idea"], work, _("The milestone is marked as reached."), "delivery")


@post("/ideas/{idea_id:int}/shortlist", guards=[signed_in])
async def shortlist(request: Request, idea_id: FromPath[int]) -> Response:
    async def work(data):
        await services.shortlist(current_user(request), idea_id, text(data, "shortlisted") != "no")
    return await _staff_action(request, idea_id, work, _("The shortlist is updated."), "challenge")


# --------------------------------------------------------------------------- images


@get("/ideas/images/{image_id:int}")
async def image(request: Request, state: State, image_id: FromPath[int]) -> Response:
    """An idea's image with safe headers: the type found in its bytes, nosniff, shown inline
    under a name we chose; only when the idea's text may be seen by this person."""
    row = await IdeaImage.select(IdeaImage.all_columns(), IdeaImage.idea.visibility.as_alias("visibility"),
                                 IdeaImage.idea.author.as_alias("author"),
                                 IdeaImage.idea.organisation.as_alias("organisation")).where(
        IdeaImage.id == image_id).first()
    if row is None or not await services.may_see_content(current_user(request), row):
        raise NotFoundException()
    return uploads.file_response(state.settings, "ideas", row["stored_name"], row["content_type"], row["filename"],
                                 inline=True, public=row["visibility"] == services.VISIBLE)


# --------------------------------------------------------------------------- challenges


@get("/ideas/challenges", name="ideas:challenges")
async def challenge_list(request: Request) -> Response:
    user = current_user(request)
    may_create = bool(user) and bool(await services.challenge_organisations_of(user))
    return page(request, "ideas/challenges.html", {"challenges": await services.list_challenges(),
                                                    "labels": labels(), "may_create": may_create})


async def _challenge_form_context(request: Request, values: dict, errors: dict) -> dict:
    from civic.territory.tables import Territory

    return {"values": values, "errors": errors, "labels": labels(), "levels": LEVELS,
            "organisations": await services.challenge_organisations_of(current_user(request)),
            "territories": await Territory.select(Territory.id, Territory.name_kk, Territory.name_ru,
                                                  Territory.name_en, Territory.path).order_by(Territory.path)}


@get("/ideas/challenges/new", guards=[signed_in])
async def challenge_form(request: Request) -> Response:
    context = await _challenge_form_context(request, {"level": "dialogue"}, {})
    if not context["organisations"]:
        return _refusal_page(request, Denied(
            N_("Only staff of the organisation may publish its challenges.")))
    return page(request, "ideas/challenge_form.html", context)


@post("/ideas/challenges/new", guards=[signed_in])
async def create_challenge(request: Request) -> Response:
    data = await form_data(request)
    values = {k: text(data, k, 10_000) for k in ("title", "problem", "success_criteria", "deadline", "level")}
    values.update(organisation=integer(data, "organisation"), territory=integer(data, "territory"))
    try:
        challenge_id = await services.create_challenge(
            current_user(request), organisation_id=values["organisation"], territory_id=values["territory"],
            title=values["title"], problem=values["problem"], success_criteria=values["success_criteria"],
            deadline=_date(values["deadline"]), level=values["level"])
    except RuleError as exc:
        if exc.status_code == 403:
            return _refusal_page(request, exc)
        return page(request, "ideas/challenge_form.html",
                    await _challenge_form_context(request, values, {exc.field: _message(exc)}), status_code=400)
    flash(request, _("The challenge is published."), "success")
    return see_other(f"/ideas/challenges/{challenge_id}")


async def _challenge_page(request: Request, challenge_id: int, errors: dict | None = None,
                          status_code: int = 200) -> Response:
    challenge = await services.get_challenge(challenge_id)
    if challenge is None:
        raise NotFoundException()
    user = current_user(request)
    staff = await services.may_run_challenges(user, challenge["organisation"])
    moderator = await services.may_moderate(user, challenge["organisation"])
    ideas = await services.list_ideas(challenge_id=challenge_id, sort="supported", per_page=200)
    return page(request, "ideas/challenge.html", {
        "challenge": challenge, "ideas": ideas.items, "labels": labels(), "staff": staff, "moderator": moderator,
        "accepting": services.challenge_accepts_ideas(challenge), "user": user, "errors": errors or {},
        "show_content": challenge["visibility"] == services.VISIBLE or staff or moderator,
    }, status_code=status_code)


@get("/ideas/challenges/{challenge_id:int}", name="ideas:challenge")
async def challenge_detail(request: Request, challenge_id: FromPath[int]) -> Response:
    return await _challenge_page(request, challenge_id)


@post("/ideas/challenges/{challenge_id:int}/close", guards=[signed_in])
async def close_challenge(request: Request, challenge_id: FromPath[int]) -> Response:
    try:
        await services.close_challenge(current_user(request), challenge_id)
    except RuleError as exc:
        if exc.status_code != 400:
            return _refusal_page(request, exc)
        return await _challenge_page(request, challenge_id, {"outcome": _message(exc)}, 400)
    flash(request, _("The challenge no longer takes ideas."), "success")
    return see_other(f"/ideas/challenges/{challenge_id}")


@post("/ideas/challenges/{challenge_id:int}/outcome", guards=[signed_in])
async def publish_outcome(request: Request, challenge_id: FromPath[int]) -> Response:
    data = await form_data(request)
    try:
        await services.publish_outcome(current_user(request), challenge_id, text(data, "outcome", 10_000))
    except RuleError as exc:
        if exc.status_code != 400:
            return _refusal_page(request, exc)
        return await _challenge_page(request, challenge_id, {"outcome": _message(exc)}, 400)
    flash(request, _("The outcome is published and every participant is told."), "success")
    return see_other(f"/ideas/challenges/{challenge_id}")


@post("/ideas/challenges/{challenge_id:int}/flag", guards=[signed_in])
async def flag_challenge(request: Request, challenge_id: FromPath[int]) -> Response:
    return await _flag(request, "challenge", challenge_id, f"/ideas/challenges/{challenge_id}", None)


# --------------------------------------------------------------------------- moderation


@get("/ideas/moderation", guards=[signed_in])
async def moderation_queue(request: Request) -> Response:
    try:
        queue = await services.moderation_queue(current_user(request))
    except RuleError as exc:
        return _refusal_page(request, exc)
    return page(request, "ideas/moderation.html", {"queue": queue, "labels": labels()})


MODERATION_ACTIONS = ("hide", "restore", "approve", "reject", "dismiss")


@post("/ideas/moderation/{kind:str}/{target_id:int}/{action:str}", guards=[signed_in])
async def moderate(request: Request, kind: FromPath[str], target_id: FromPath[int], action: FromPath[str]) -> Response:
    if kind not in ("idea", "comment", "challenge") or action not in MODERATION_ACTIONS:
        raise NotFoundException()
    data = await form_data(request)
    moderator = current_user(request)
    reason, note = text(data, "reason", 20), text(data, "note", 1000)
    try:
        if action == "hide":
            await services.hide(moderator, kind, target_id, reason, note)
        elif action == "restore":
            await services.restore(moderator, kind, target_id, note)
        elif action == "approve":
            await services.approve(moderator, kind, target_id)
        elif action == "reject":
            await services.reject(moderator, kind, target_id, reason, note)
        else:
            await services.dismiss_flags(moderator, kind, target_id)
    except RuleError as exc:
        return _refusal_page(request, exc)
    flash(request, {"hide": _("Hidden. The placeholder shows the reason."), "restore": _("Shown again."),
                    "approve": _("Published."), "reject": _("Not published. The author is told why."),
                    "dismiss": _("The reports are closed; the post stays.")}[action], "success")
    back = text(data, "next", 300)
    return see_other(back if back.startswith("/ideas") and not back.startswith("//") else "/ideas/moderation")


@post("/ideas/moderation/block", guards=[signed_in])
async def block(request: Request) -> Response:
    data = await form_data(request)
    user_id = integer(data, "user")
    try:
        if user_id is None:
            raise RuleError(N_("This account does not exist."))
        if text(data, "unblock") == "yes":
            await services.unblock_account(current_user(request), user_id)
        else:
            await services.block_account(current_user(request), user_id, text(data, "reason", 500))
    except RuleError as exc:
        return _refusal_page(request, exc)
    flash(request, _("The account is updated."), "success")
    back = text(data, "next", 300)
    return see_other(back if back.startswith("/ideas") and not back.startswith("//") else "/ideas/moderation")


@get("/ideas/moderation/log", name="ideas:moderation_log")
async def moderation_log(request: Request, page_number: FromQuery[int] = 1) -> Response:
    entries, more = await services.moderation_log(max(1, page_number))
    return page(request, "ideas/moderation_log.html", {"entries": entries, "more": more,
                                                        "page_number": max(1, page_number), "labels": labels()})


# --------------------------------------------------------------------------- organisation rules


@get("/ideas/policy", guards=[signed_in])
async def policy_list(request: Request) -> Response:
    organisations = await services.policy_organisations(current_user(request))
    if not organisations:
        return _refusal_page(request, Denied(
            N_("Only an administrator of the organisation may change its rules for ideas.")))
    return page(request, "ideas/policy_list.html", {"organisations": organisations})


@get("/ideas/policy/{slug:str}", guards=[signed_in])
async def policy_form(request: Request, slug: FromPath[str]) -> Response:
    organisation = await Organisation.select().where(Organisation.slug == slug).first()
    if organisation is None:
        raise NotFoundException()
    if not await services.may_set_policy(current_user(request), organisation["id"]):
        return _refusal_page(request, Denied(
            N_("Only an administrator of the organisation may change its rules for ideas.")))
    policy = await services.policy_for(organisation["id"])
    return page(request, "ideas/policy.html", {"organisation": organisation, "values": policy, "errors": {}})


@post("/ideas/policy/{slug:str}", guards=[signed_in])
async def save_policy(request: Request, slug: FromPath[str]) -> Response:
    organisation = await Organisation.select().where(Organisation.slug == slug).first()
    if organisation is None:
        raise NotFoundException()
    data = await form_data(request)
    threshold = integer(data, "support_threshold")
    values = {"moderation": text(data, "moderation", 10), "support_threshold": text(data, "support_threshold", 20)}
    try:
        await services.set_policy(current_user(request), organisation["id"], moderation=values["moderation"],
                                  support_threshold=threshold if threshold is not None else 0)
    except RuleError as exc:
        if exc.status_code == 403:
            return _refusal_page(request, exc)
        return page(request, "ideas/policy.html", {"organisation": organisation, "values": values,
                                                   "errors": {exc.field: _message(exc)}}, status_code=400)
    flash(request, _("The rules for ideas are saved."), "success")
    return see_other(f"/ideas/policy/{slug}")


# --------------------------------------------------------------------------- open data


@get("/ideas/export.csv")
async def export_csv() -> Response:
    rows = await services.export_rows()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=services.EXPORT_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="ashyq-ideas.csv"'})


@get("/ideas/export.json")
async def export_json() -> Response:
    rows = await services.export_rows()
    data = [{k: row[k] for k in services.EXPORT_FIELDS} for row in rows]
    return Response(json.dumps({"ideas": data}, ensure_ascii=False), media_type="application/json",
                    headers={"content-disposition": 'attachment; filename="ashyq-ideas.json"'})


def router() -> Router:
    return Router(path="/", route_handlers=[
        idea_list, propose_form, propose, edit_form, edit, detail, support, withdraw, follow, comment,
        comment_edit_form, comment_edit, flag_idea, flag_comment, change_status, implementation, add_milestone,
        milestone_done, shortlist, image, challenge_list, challenge_form, create_challenge, challenge_detail,
        close_challenge, publish_outcome, flag_challenge, moderation_queue, moderate, block, moderation_log,
        policy_list, policy_form, save_policy, export_csv, export_json,
    ])
