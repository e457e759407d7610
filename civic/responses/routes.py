"""The staff inbox and the response page: thin handlers over civic.responses.services."""

from __future__ import annotations

from datetime import date

from litestar.params import FromPath, FromQuery
from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException

from civic.accounts.guards import current_user, signed_in
from civic.accounts.tables import Membership, Role, User
from civic.i18n.runtime import gettext as _
from civic.permissions import organisations_where
from civic.responses import services
from civic.responses.tables import OfficialResponse
from civic.rules import RuleError
from civic.territory.tables import Organisation
from civic.web.flash import flash
from civic.web.forms import form_data, integer, text
from civic.web.pages import page, see_other

STAFF_ROLES = (Role.OFFICIAL, Role.ADMINISTRATOR)


async def _response_or_404(response_id: int) -> dict:
    row = await OfficialResponse.select(
        OfficialResponse.all_columns(),
        OfficialResponse.organisation.slug.as_alias("organisation_slug"),
        OfficialResponse.organisation.name_kk.as_alias("organisation_name_kk"),
        OfficialResponse.organisation.name_ru.as_alias("organisation_name_ru"),
        OfficialResponse.organisation.name_en.as_alias("organisation_name_en"),
        OfficialResponse.specialist.display_name.as_alias("specialist_name"),
    ).where(OfficialResponse.id == response_id).first()
    if row is None:
        raise NotFoundException()
    return row


async def _is_staff_of(user: dict | None, organisation_id: int) -> bool:
    return user is not None and await services.may_act(user["id"], organisation_id)


@get("/staff/inbox", guards=[signed_in])
async def inbox(request: Request, state_filter: FromQuery[str | None] = None) -> Response:
    user = current_user(request)
    organisation_ids = await organisations_where(user, STAFF_ROLES)
    if not organisation_ids and not user["is_admin"]:
        raise PermissionDeniedException()
    if not organisation_ids:  # a platform administrator without memberships sees every body's work
        organisation_ids = [row["id"] for row in await Organisation.select(Organisation.id)]
    items = await services.inbox(organisation_ids, state=state_filter or None)
    organisations = await Organisation.select().where(Organisation.id.is_in(organisation_ids or [0]))
    figures = {o["id"]: await services.organisation_figures(o["id"]) for o in organisations}
    return page(request, "responses/inbox.html", {"items": items, "organisations": organisations,
                                                  "figures": figures, "state_filter": state_filter or ""})


@get("/responses/{response_id:int}")
async def detail(request: Request, response_id: FromPath[int]) -> Response:
    user = current_user(request)
    response = await _response_or_404(response_id)
    staff = await _is_staff_of(user, response["organisation"])
    is_citizen = user is not None and response["citizen"] == user["id"]
    if not (response["subject_is_public"] or staff or is_citizen):
        raise NotFoundException()
    specialists = []
    other_organisations = []
    if staff:
        specialists = await Membership.select(Membership.user.id.as_alias("id"),
                                              Membership.user.display_name.as_alias("display_name")).where(
            (Membership.organisation == response["organisation"]) & Membership.role.is_in(list(STAFF_ROLES)))
        other_organisations = await Organisation.select().where(Organisation.id != response["organisation"]).order_by(
            Organisation.slug)
    show_answer = response["answer_is_public"] or staff or is_citizen
    return page(request, "responses/detail.html", {
        "response": response, "staff": staff, "is_citizen": is_citizen, "show_answer": show_answer,
        "history": await services.history(response_id, include_private=staff),
        "light": services.traffic_light(response, None), "specialists": specialists,
        "other_organisations": other_organisations,
    })


async def _staff_action(request: Request, response_id: int):
    user = current_user(request)
    response = await _response_or_404(response_id)
    if not await _is_staff_of(user, response["organisation"]):
        raise PermissionDeniedException()
    return user, response, await form_data(request)


def _refused(request: Request, exc: RuleError, response_id: int) -> Response:
    """Staff actions are refused on the response page itself: the message is flashed there."""
    flash(request, exc.translated(), "error")
    return see_other(f"/responses/{response_id}")


@post("/responses/{response_id:int}/acknowledge", guards=[signed_in])
async def acknowledge(request: Request, response_id: FromPath[int]) -> Response:
    user, response, data = await _staff_action(request, response_id)
    specialist_id = integer(data, "specialist") or user["id"]
    if not await User.exists().where(User.id == specialist_id):
        flash(request, _("Choose a specialist from the list."), "error")
        return see_other(f"/responses/{response_id}")
    try:
        await services.acknowledge(response_id, actor_id=user["id"], specialist_id=specialist_id)
    except RuleError as exc:
        return _refused(request, exc, response_id)
    flash(request, _("The citizen has been told who is handling this."), "success")
    return see_other(f"/responses/{response_id}")


@post("/responses/{response_id:int}/forward", guards=[signed_in])
async def forward(request: Request, response_id: FromPath[int]) -> Response:
    user, response, data = await _staff_action(request, response_id)
    target = integer(data, "organisation")
    if target is None or not await Organisation.exists().where(Organisation.id == target):
        flash(request, _("Choose the organisation to forward to."), "error")
        return see_other(f"/responses/{response_id}")
    try:
        await services.forward(response_id, actor_id=user["id"], to_organisation_id=target, note=text(data, "note"))
    except RuleError as exc:
        return _refused(request, exc, response_id)
    flash(request, _("Forwarded."), "success")
    return see_other("/staff/inbox")


@post("/responses/{response_id:int}/extend", guards=[signed_in])
async def extend(request: Request, response_id: FromPath[int]) -> Response:
    user, response, data = await _staff_action(request, response_id)
    try:
        new_due_on = date.fromisoformat(text(data, "new_due_on", 10))
    except ValueError:
        flash(request, _("Enter the new due date as a date."), "error")
        return see_other(f"/responses/{response_id}")
    try:
        await services.extend(response_id, actor_id=user["id"], new_due_on=new_due_on, reason=text(data, "reason"))
    except RuleError as exc:
        return _refused(request, exc, response_id)
    flash(request, _("The deadline is extended and the citizen told."), "success")
    return see_other(f"/responses/{response_id}")


@post("/responses/{response_id:int}/answer", guards=[signed_in])
async def answer(request: Request, response_id: FromPath[int]) -> Response:
    user, response, data = await _staff_action(request, response_id)
    try:
        await services.answer(response_id, actor_id=user["id"], text=text(data, "answer", 20_000),
                              public=text(data, "public") == "yes")
    except RuleError as exc:
        return _refused(request, exc, response_id)
    flash(request, _("The answer is published and sent."), "success")
    return see_other(f"/responses/{response_id}")


@post("/responses/{response_id:int}/rate", guards=[signed_in])
async def rate(request: Request, response_id: FromPath[int]) -> Response:
    user = current_user(request)
    data = await form_data(request)
    solved = {"yes": True, "no": False}.get(text(data, "solved"))
    rating = integer(data, "rating")
    try:
        if rating is None or solved is None:
            raise RuleError("Choose a rating from 1 to 5 and say whether this solved it.")
        await services.rate(response_id, user_id=user["id"], rating=rating, solved=solved)
    except RuleError as exc:
        return _refused(request, exc, response_id)
    flash(request, _("Thank you for rating the answer."), "success")
    return see_other(f"/responses/{response_id}")


def router() -> Router:
    return Router(path="/", route_handlers=[inbox, detail, acknowledge, forward, extend, answer, rate])
