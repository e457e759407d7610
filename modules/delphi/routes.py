"""Pages of the Delphi module: thin handlers — parse, call a service, render.

Every action is a plain form post that redirects on success, so everything works without
JavaScript. Refusals re-render the page with the message in the reader's language (400, 403),
never a 500. A study's address is its random key.

Anonymity: no handler here ever puts a person next to an answer. Organisers get response
counts; the results, the CSV and the report show pseudonymous answers (labels drawn at random)
or aggregates only; the public gets aggregates only.
"""

from __future__ import annotations

import csv
import io

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from civic.accounts.guards import current_user, signed_in
from civic.i18n.runtime import N_, gettext as _
from civic.rules import Denied, NotFound, RuleError
from civic.web.flash import flash
from civic.web.forms import form_data, integer, text
from civic.web.pages import page, see_other
from modules.delphi import services
from modules.delphi import statistics as st

STUDY_FIELDS = ("organisation", "title", "purpose", "kind", "horizon_year", "planned_rounds", "consensus_rule",
                "iqr_bound", "band_share", "stability_bound", "divergence_rounds", "lang")
QUESTION_FIELDS = ("kind", "text", "unit", "min_value", "max_value", "scale_max", "options", "tolerance", "origin")


def labels() -> dict:
    return {
        "kind": {k: _(v) for k, v in services.STUDY_KINDS.items()},
        "question": {k: _(v) for k, v in services.QUESTION_KINDS.items()},
        "study": {k: _(v) for k, v in services.STUDY_STATES.items()},
        "round": {k: _(v) for k, v in services.ROUND_STATES.items()},
        "panel": {k: _(v) for k, v in services.PANEL_STATES.items()},
        "consensus": {k: _(v) for k, v in services.CONSENSUS_STATES.items()},
        "rule": {k: _(v) for k, v in services.RULES.items()},
    }


def _settings(request: Request):
    return request.app.state.settings


async def _study(request: Request, key: str) -> tuple[dict, dict]:
    """The study and what the reader may do with it; 404 for those who may not see it."""
    study = await services.get_study(key)
    if study is None:
        raise NotFoundException()
    access = await services.access(current_user(request), study)
    if not access["see"]:
        raise NotFoundException()
    return study, access


def fmt(value, digits: int = 2) -> str:
    """A figure for the pages: whole numbers plain, others with up to ``digits`` decimals."""
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return " > ".join(str(v) for v in value)
    if isinstance(value, str):
        return value
    value = round(float(value), digits)
    return str(int(value)) if value.is_integer() else f"{value:.{digits}f}".rstrip("0").rstrip(".")


def _common() -> dict:
    return {"labels": labels(), "fmt": fmt, "min_answers": st.MIN_ANSWERS,
            "histogram_bars": services.histogram_bars}


# --------------------------------------------------------------------------- lists and creating


@get("/delphi", name="delphi:list")
async def study_list(request: Request) -> Response:
    user = current_user(request)
    studies = await services.list_studies(user)
    return page(request, "delphi/list.html", {**_common(), **studies, "user": user,
                                              "may_create": bool(await services.organisations_for_studies(user))})


async def _form_page(request: Request, values: dict, errors: dict, status_code: int = 200) -> Response:
    organisations = await services.organisations_for_studies(current_user(request))
    if not organisations:
        raise Denied(
            N_("Only an organiser of a working group may start a Delphi study."))
    return page(request, "delphi/form.html", {**_common(), "values": values, "errors": errors,
                                              "organisations": organisations}, status_code=status_code)


@get("/delphi/new", guards=[signed_in])
async def new_form(request: Request) -> Response:
    return await _form_page(request, {"kind": "classic", "planned_rounds": "3", "consensus_rule": "iqr",
                                      "iqr_bound": "1", "band_share": "70", "stability_bound": "0.5",
                                      "divergence_rounds": "3", "justification_required": True, "lang": "ru"}, {})


@post("/delphi/new", guards=[signed_in])
async def create(request: Request) -> Response:
    data = await form_data(request)
    values = {name: text(data, name, 5000) for name in STUDY_FIELDS}
    values["organisation"] = integer(data, "organisation")
    values["justification_required"] = text(data, "justification_required", 5) in ("on", "1", "yes")
    try:
        study = await services.create_study(
            current_user(request), organisation_id=values["organisation"], title=values["title"],
            purpose=values["purpose"], kind=values["kind"], horizon_year=values["horizon_year"],
            planned_rounds=values["planned_rounds"], lang=values["lang"], consensus_rule=values["consensus_rule"],
            iqr_bound=values["iqr_bound"], band_share=values["band_share"], stability_bound=values["stability_bound"],
            divergence_rounds=values["divergence_rounds"], justification_required=values["justification_required"])
    except RuleError as exc:
        if exc.status_code == 403 and exc.field != "organisation":
            raise
        return await _form_page(request, values, {exc.field: exc.translated()}, status_code=400)
    flash(request, _("The study is created. Invite the panel and write the questions of round 1."), "success")
    return see_other(f"/delphi/{study['key']}")


# --------------------------------------------------------------------------- the study page


async def _study_context(request: Request, study: dict, access: dict, errors: dict | None = None,
                         values: dict | None = None) -> dict:
    rounds = await services.rounds_of(study["id"])
    current = rounds[-1] if rounds else None
    context = {**_common(), "study": study, "access": access, "rounds": rounds, "current": current,
               "errors": errors or {}, "values": values or {}, "user": current_user(request)}
    if access["manage"]:
        context["panel"] = await services.panel_of(study["id"])
        context["panel_counts"] = {state: sum(1 for p in context["panel"] if p["state"] == state)
                                   for state in services.PANEL_STATES}
        context["items"] = await services.items_of(current["id"]) if current else []
        context["counts"] = await services.response_counts(current["id"]) if current else None
        context["panel_warning"] = services.panel_changes_after_round_one(rounds)
        asked = {i["question"] for i in context["items"]}
        context["other_questions"] = [q for q in await services.questions_of(study["id"]) if q["id"] not in asked]
        if current and current["state"] in ("closed", "analysed"):
            results = await services.study_results(_settings(request), study, with_justifications=False)
            context["states"] = {qid: e["state"] for qid, e in results["by_question"].items()}
            context["results"] = results
        else:
            context["states"] = {}
            context["results"] = None
    return context


async def _study_page(request: Request, study: dict, access: dict, *, errors: dict | None = None,
                      values: dict | None = None, status_code: int = 200) -> Response:
    context = await _study_context(request, study, access, errors, values)
    return page(request, "delphi/study.html", context, status_code=status_code)


@get("/delphi/{key:str}", name="delphi:study")
async def study_page(request: Request, key: FromPath[str]) -> Response:
    study, access = await _study(request, key)
    if not access["manage"] and not access["panelist"]:
        return see_other(f"/delphi/{key}/results")
    return await _study_page(request, study, access)


async def _organiser_action(request: Request, key: str, action, success: str, anchor: str = "",
                            values: dict | None = None) -> Response:
    """Run an organiser's action; on refusal show the study page with the message (no change)."""
    study, access = await _study(request, key)
    try:
        result = await action(study)
    except RuleError as exc:
        if exc.status_code == 403:
            raise
        return await _study_page(request, study, access, errors={exc.field: exc.translated()}, values=values,
                                 status_code=400)
    flash(request, _(success), "success")
    if isinstance(result, dict) and result.get("warning"):
        flash(request, _(result["warning"]), "warning")
    return see_other(f"/delphi/{key}{anchor}")


@post("/delphi/{key:str}/panel", guards=[signed_in])
async def invite(request: Request, key: FromPath[str]) -> Response:
    data = await form_data(request)
    values = {"email": text(data, "email", 254), "field": text(data, "field", 300)}
    return await _organiser_action(
        request, key, lambda s: services.invite(_settings(request), current_user(request), s["id"], values["email"],
                                                values["field"]),
        "The invitation is sent.", "#panel", values)


@post("/delphi/{key:str}/panel/{panelist_id:int}/remove", guards=[signed_in])
async def remove(request: Request, key: FromPath[str], panelist_id: FromPath[int]) -> Response:
    return await _organiser_action(
        request, key, lambda s: services.remove_panelist(current_user(request), s["id"], panelist_id),
        "The expert is taken off the panel.", "#panel")


@post("/delphi/{key:str}/questions", guards=[signed_in])
async def add_question(request: Request, key: FromPath[str]) -> Response:
    data = await form_data(request)
    values = {name: text(data, name, 5000) for name in QUESTION_FIELDS}
    values["roadmap"] = text(data, "roadmap", 5) in ("on", "1", "yes")
    return await _organiser_action(
        request, key, lambda s: services.add_question(
            current_user(request), s["id"], kind=values["kind"], text=values["text"], unit=values["unit"],
            min_value=values["min_value"], max_value=values["max_value"], scale_max=values["scale_max"] or 9,
            options=values["options"], tolerance=values["tolerance"], roadmap=values["roadmap"],
            origin=values["origin"]),
        "The question is added to the draft round.", "#questionnaire", values)


@post("/delphi/{key:str}/items/{item_id:int}/reword", guards=[signed_in])
async def reword(request: Request, key: FromPath[str], item_id: FromPath[int]) -> Response:
    data = await form_data(request)
    return await _organiser_action(
        request, key, lambda s: services.reword_item(current_user(request), s["id"], item_id, text(data, "text", 5000)),
        "The wording is changed for this round.", "#questionnaire")


@post("/delphi/{key:str}/items/{item_id:int}/drop", guards=[signed_in])
async def drop(request: Request, key: FromPath[str], item_id: FromPath[int]) -> Response:
    return await _organiser_action(
        request, key, lambda s: services.drop_item(current_user(request), s["id"], item_id),
        "The question is left out of this round.", "#questionnaire")


@post("/delphi/{key:str}/questions/{question_id:int}/restore", guards=[signed_in])
async def restore(request: Request, key: FromPath[str], question_id: FromPath[int]) -> Response:
    return await _organiser_action(
        request, key, lambda s: services.restore_question(current_user(request), s["id"], question_id),
        "The question is asked again in this round.", "#questionnaire")


@post("/delphi/{key:str}/open", guards=[signed_in])
async def open_round(request: Request, key: FromPath[str]) -> Response:
    data = await form_data(request)
    return await _organiser_action(
        request, key, lambda s: services.open_round(_settings(request), current_user(request), s["id"],
                                                    text(data, "deadline", 20)),
        "The round is open. The experts are told.", "#rounds", {"deadline": text(data, "deadline", 20)})


@post("/delphi/{key:str}/close", guards=[signed_in])
async def close_round(request: Request, key: FromPath[str]) -> Response:
    return await _organiser_action(
        request, key, lambda s: services.close_round(current_user(request), s["id"]),
        "The round is closed. Its statistics are ready.", "#rounds")


@post("/delphi/{key:str}/analyse", guards=[signed_in])
async def analyse(request: Request, key: FromPath[str]) -> Response:
    data = await form_data(request)
    return await _organiser_action(
        request, key, lambda s: services.analyse_round(current_user(request), s["id"], text(data, "note", 5000)),
        "The round is marked as analysed.", "#rounds")


@post("/delphi/{key:str}/next", guards=[signed_in])
async def next_round(request: Request, key: FromPath[str]) -> Response:
    return await _organiser_action(
        request, key, lambda s: services.next_round(_settings(request), current_user(request), s["id"]),
        "The next round is drafted with the questions that have not reached consensus.", "#questionnaire")


@post("/delphi/{key:str}/finish", guards=[signed_in])
async def finish(request: Request, key: FromPath[str]) -> Response:
    data = await form_data(request)
    conclusion = text(data, "conclusion", 10_000)
    return await _organiser_action(
        request, key, lambda s: services.finish(_settings(request), current_user(request), s["id"], conclusion),
        "The study is finished.", "", {"conclusion": conclusion})


@post("/delphi/{key:str}/publish", guards=[signed_in])
async def publish(request: Request, key: FromPath[str]) -> Response:
    return await _organiser_action(
        request, key, lambda s: services.publish(current_user(request), s["id"]),
        "The results are published and can be found in search.", "")


# --------------------------------------------------------------------------- invitations


async def _invitation(request: Request, token: str) -> dict:
    found = await services.invitation(token)
    if found is None:
        raise NotFoundException()
    return found


@get("/delphi/invitations/{token:str}")
async def invitation_page(request: Request, token: FromPath[str]) -> Response:
    found = await _invitation(request, token)
    return page(request, "delphi/invitation.html", {**_common(), **found, "token": token,
                                                    "user": current_user(request)})


@post("/delphi/invitations/{token:str}", guards=[signed_in])
async def respond(request: Request, token: FromPath[str]) -> Response:
    found = await _invitation(request, token)
    data = await form_data(request)
    decision = text(data, "decision", 10)
    if decision not in ("accept", "decline"):
        return page(request, "delphi/invitation.html", {
            **_common(), **found, "token": token, "user": current_user(request),
            "error": _("Choose to accept or to decline.")}, status_code=400)
    try:
        study = await services.respond(_settings(request), current_user(request), token, decision == "accept")
    except RuleError as exc:
        if isinstance(exc, NotFound):
            raise
        return page(request, "delphi/invitation.html", {
            **_common(), **found, "token": token, "user": current_user(request), "error": exc.translated()},
            status_code=exc.status_code)
    if decision == "accept":
        flash(request, _("Thank you! You are on the panel. Your answers are stored under a pseudonym."), "success")
        return see_other(f"/delphi/{study['key']}")
    flash(request, _("You declined the invitation."), "info")
    return see_other("/delphi")


# --------------------------------------------------------------------------- answering a round


async def _round_page(request: Request, study: dict, access: dict, *, errors: dict | None = None,
                      typed: dict | None = None, status_code: int = 200) -> Response:
    view = await services.expert_round(_settings(request), current_user(request), study)
    return page(request, "delphi/round.html", {**_common(), "study": study, **view, "errors": errors or {},
                                               "typed": typed}, status_code=status_code)


@get("/delphi/{key:str}/round", guards=[signed_in])
async def round_form(request: Request, key: FromPath[str]) -> Response:
    study, access = await _study(request, key)
    return await _round_page(request, study, access)


@post("/delphi/{key:str}/round", guards=[signed_in])
async def save_round(request: Request, key: FromPath[str]) -> Response:
    study, access = await _study(request, key)
    data = await form_data(request)
    submit = text(data, "action", 10) == "submit"
    try:
        await services.save_answers(_settings(request), current_user(request), study["id"], data, submit=submit)
    except services.AnswerErrors as exc:
        errors = {name: _(msgid, **params) for name, (msgid, params) in exc.errors.items()}
        return await _round_page(request, study, access, errors=errors, typed=data, status_code=400)
    if submit:
        flash(request, _("Your answers are sent. You can change them until the round closes."), "success")
    else:
        flash(request, _("Your draft is saved. Come back to finish it before the deadline."), "success")
    return see_other(f"/delphi/{key}/round")


# --------------------------------------------------------------------------- results, export, report


async def _results_context(request: Request, study: dict, access: dict) -> dict:
    results = await services.study_results(_settings(request), study, with_justifications=access["answers"])
    charts = {e["question"]["id"]: services.convergence_chart(e) for e in results["questions"]}
    return {**_common(), "study": study, "access": access, "results": results, "charts": charts,
            "stability": await services.panel_stability(study["id"])}


@get("/delphi/{key:str}/results")
async def results_page(request: Request, key: FromPath[str]) -> Response:
    study, access = await _study(request, key)
    if not access["results"]:
        raise Denied(
            N_("The results are shown to the panel when the study is finished, and to everyone once published."))
    return page(request, "delphi/results.html", await _results_context(request, study, access))


@get("/delphi/{key:str}/report")
async def report_page(request: Request, key: FromPath[str]) -> Response:
    study, access = await _study(request, key)
    if not access["results"]:
        raise Denied(
            N_("The results are shown to the panel when the study is finished, and to everyone once published."))
    return page(request, "delphi/report.html", await _results_context(request, study, access))


@get("/delphi/{key:str}/results.csv")
async def results_csv(request: Request, key: FromPath[str]) -> Response:
    study, access = await _study(request, key)
    if not access["answers"]:
        raise Denied(
            N_("The anonymised answers are for the study's organisers and, once it is finished, its panel."))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["round", "question", "type", "expert", "answer", "justification"])
    writer.writerows(await services.export_rows(study))
    return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="delphi-{study["key"]}.csv"'})


def router() -> Router:
    return Router(path="/", route_handlers=[
        study_list, new_form, create, study_page, invite, remove, add_question, reword, drop, restore, open_round,
        close_round, analyse, next_round, finish, publish, invitation_page, respond, round_form, save_round,
        results_page, report_page, results_csv,
    ])
