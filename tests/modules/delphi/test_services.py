"""The rules of a study: who may do what, the round lifecycle, answering with drafts, the
pseudonyms, feedback with minority views first, consensus across rounds, jobs and search."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civic.accounts.tables import AuditEntry
from civic.notify.tables import Notification
from civic.rules import Denied, RuleError
from modules.delphi import services
from modules.delphi import statistics as st
from modules.delphi.tables import Answer, Panelist, Pseudonym, Round, RoundResponse, Study
from tests.modules.delphi.conftest import add_questions, answer_round, in_days, new_study, seat_panel

ROUND_1 = [
    {"Q1": (1200, "Birth rate falls slowly"), "Q2": (8, "Queues are long"), "Q3": ("Transport", "Buses")},
    {"Q1": (1500, "Migration to Aralsk"), "Q2": (7, "Important"), "Q3": ("Staff", "Teachers leave")},
    {"Q1": (1400, "Census data"), "Q2": (8, "Yes"), "Q3": ("Heating", "Old buildings")},
    {"Q1": (1450, "Trend"), "Q2": (9, "Very"), "Q3": ("Land", "Plots")},
    {"Q1": (4000, "Fishing revival brings families back"), "Q2": (2, "Private kindergartens suffice"),
     "Q3": ("Nothing", "No")},
]


async def test_only_organisers_start_studies_and_bad_input_changes_nothing(world):
    with pytest.raises(Denied):
        await services.create_study(world["outsider"], organisation_id=world["akimat"].id, title="Topic here",
                                    purpose="A purpose long enough", kind="classic", horizon_year=None,
                                    planned_rounds=3)
    with pytest.raises(Denied):
        await services.create_study(world["other_organiser"], organisation_id=world["akimat"].id,
                                    title="Topic here", purpose="A purpose long enough", kind="classic",
                                    horizon_year=None, planned_rounds=3)
    before = await Study.count()
    for bad in ({"kind": "astrology"}, {"planned_rounds": "many"}, {"title": "x"}, {"iqr_bound": "-1"},
                {"kind": "foresight", "horizon": 2030}):
        with pytest.raises(RuleError):
            await new_study(world, **bad)
    assert await Study.count() == before
    with pytest.raises(RuleError) as refused:
        await new_study(world, kind="foresight", horizon="soon")
    assert str(refused.value) == "Give the horizon as a year 25 to 30 years ahead."  # the message is whole
    study = await new_study(world, kind="foresight", horizon=services.now_utc().year + 27)
    assert study["horizon_year"] and study["state"] == "draft"
    assert (await services.latest_round(study["id"]))["state"] == "draft"


async def test_the_round_lifecycle_feedback_and_consensus(settings, world):
    study = await new_study(world)
    await add_questions(world, study)
    with pytest.raises(RuleError, match="at least 3 experts"):
        await services.open_round(settings, world["organiser"], study["id"], in_days(10))
    experts = await seat_panel(settings, world, study, 5)
    with pytest.raises(RuleError):
        await services.open_round(settings, world["organiser"], study["id"], "yesterday")
    with pytest.raises(Denied):
        await services.open_round(settings, world["outsider"], study["id"], in_days(10))
    await services.open_round(settings, world["organiser"], study["id"], in_days(10))
    round_1 = await services.latest_round(study["id"])
    assert round_1["state"] == "open" and round_1["panel_size"] == 5
    assert await Pseudonym.count().where(Pseudonym.study == study["id"]) == 5
    # every answer row exists from the start, so answering only updates
    assert await Answer.count().where(Answer.round == round_1["id"]) == 15
    # a draft may be incomplete; sending needs everything and justifications
    items = await services.items_of(round_1["id"])
    q1 = items[0]
    await services.save_answers(settings, experts[0], study["id"], {f"item-{q1['id']}": "1300"}, submit=False)
    with pytest.raises(services.AnswerErrors) as refused:
        await services.save_answers(settings, experts[0], study["id"], {f"item-{q1['id']}": "1300"}, submit=True)
    assert set(refused.value.errors) == {f"item-{i['id']}" for i in items}
    with pytest.raises(services.AnswerErrors):
        await services.save_answers(settings, experts[0], study["id"], {f"item-{q1['id']}": "99999"}, submit=False)
    view = await services.expert_round(settings, experts[0], study)
    assert view["mine"][q1["id"]]["value"] == 1300 and not view["submitted"]
    with pytest.raises(Denied):
        await services.save_answers(settings, world["outsider"], study["id"], {}, submit=False)
    await answer_round(settings, study, experts, ROUND_1)
    assert await services.response_counts(round_1["id"]) == {"submitted": 5, "panel": 5}
    # no statistics while the round is open
    assert (await services.study_results(settings, study))["questions"] == []
    with pytest.raises(RuleError):
        await services.analyse_round(world["organiser"], study["id"])
    await services.close_round(world["organiser"], study["id"])
    results = await services.study_results(settings, study)
    entry = results["by_question"][q1["question"]]
    # 1200 1400 1450 1500 4000: Q1 1400, median 1450, Q3 1500, IQR 100 <= 1 unit (200): consensus
    assert (entry["last"].q1, entry["last"].median, entry["last"].q3) == (1400, 1450, 1500)
    assert entry["state"] == st.CONSENSUS
    assert [r["value"] for r in entry["minority"]] == [1200, 4000]
    scale = results["by_question"][items[1]["question"]]
    # 2 7 8 8 9: Q1 7, median 8, Q3 8
    assert (scale["last"].q1, scale["last"].median, scale["last"].iqr) == (7, 8, 1)
    assert scale["justifications"][0]["minority"] and scale["justifications"][0]["value"] == 2
    await services.analyse_round(world["organiser"], study["id"], "Round 1 done")
    round_2 = await services.next_round(settings, world["organiser"], study["id"])
    asked = [i["code"] for i in await services.items_of(round_2["id"])]
    assert "Q1" not in asked and "Q2" not in asked and asked == ["Q3"]  # consensus questions are dropped
    await services.restore_question(world["organiser"], study["id"], items[1]["question"])
    r2_items = await services.items_of(round_2["id"])
    await services.reword_item(world["organiser"], study["id"], r2_items[1]["id"], "How important, now?")
    await services.add_question(world["organiser"], study["id"], kind="probability",
                                text="Probability that a new kindergarten opens by 2028?",
                                origin="from the comments of round 1")
    await services.open_round(settings, world["organiser"], study["id"], in_days(10))
    view = await services.expert_round(settings, experts[4], study)
    scale_feedback = view["feedback"][items[1]["question"]]
    assert scale_feedback["own"]["value"] == 2  # their own previous answer, for them only
    assert scale_feedback["summary"].median == 8
    assert scale_feedback["justifications"][0]["justification"] == "Private kindergartens suffice"


async def test_finishing_asks_for_three_rounds_after_wide_divergence(settings, world):
    study = await new_study(world)
    await services.add_question(world["organiser"], study["id"], kind="scale", text="How likely is it, 1 to 9?")
    experts = await seat_panel(settings, world, study, 4)
    await services.open_round(settings, world["organiser"], study["id"], in_days(5))
    await answer_round(settings, study, experts, [{"Q1": (v, "why")} for v in (1, 3, 7, 9)])
    await services.close_round(world["organiser"], study["id"])
    await services.analyse_round(world["organiser"], study["id"])
    with pytest.raises(RuleError, match="at least 3"):
        await services.finish(settings, world["organiser"], study["id"], "We recommend waiting.")
    results = await services.study_results(settings, study)
    assert results["diverged"] and results["required_rounds"] == 3


async def test_answers_cannot_be_joined_to_people_without_the_secret(settings, world):
    study = await new_study(world)
    await add_questions(world, study)
    experts = await seat_panel(settings, world, study, 5)
    await services.open_round(settings, world["organiser"], study["id"], in_days(10))
    await answer_round(settings, study, experts, ROUND_1)
    # no user column on answers, responses or pseudonyms; no timestamps on answers
    for table in (Answer, RoundResponse, Pseudonym):
        names = {c._meta.name for c in table._meta.columns}
        assert "user" not in names and not any(n.endswith("_at") for n in names)
    keys = {r["key"] for r in await Pseudonym.select(Pseudonym.key).where(Pseudonym.study == study["id"])}
    assert keys == {services.pseudonym_key(settings.secret_key, study["id"], e["id"]) for e in experts}
    assert services.pseudonym_key("another secret", study["id"], experts[0]["id"]) not in keys
    # nothing in the audit log about answering
    actions = {r["action"] for r in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.subject == f"delphi:{study['id']}")}
    assert actions and not any("answer" in a or "save" in a for a in actions)


async def test_invitations_to_new_accounts_and_a_changing_panel(settings, world):
    from tests.support.web import make_user, unique_email

    study = await new_study(world)
    await add_questions(world, study)
    address = unique_email("newcomer")
    invited = await services.invite(settings, world["organiser"], study["id"], address, "hydrology")
    assert invited["warning"] == ""
    with pytest.raises(RuleError):
        await services.invite(settings, world["organiser"], study["id"], address, "hydrology")
    with pytest.raises(RuleError):
        await services.invite(settings, world["organiser"], study["id"], "not an address", "hydrology")
    newcomer = await make_user(address, name="New Comer")
    with pytest.raises(Denied):
        await services.respond(settings, world["outsider"], invited["token"], True)
    await services.respond(settings, newcomer, invited["token"], True)
    assert (await Panelist.select(Panelist.user).where(Panelist.id == invited["panelist"]).first())["user"] == \
        newcomer["id"]
    await seat_panel(settings, world, study, 3)
    await services.open_round(settings, world["organiser"], study["id"], in_days(10))
    late = await services.invite(settings, world["organiser"], study["id"], world["experts"][5]["email"], "law")
    assert late["warning"]
    # who accepts during an open round answers from the next one: a pseudonym created alone,
    # now, would be the newest row and tell a database reader whose it is
    latecomer = world["experts"][5]
    pseudonyms_before = await Pseudonym.count().where(Pseudonym.study == study["id"])
    await services.respond(settings, latecomer, late["token"], True)
    assert await Pseudonym.count().where(Pseudonym.study == study["id"]) == pseudonyms_before
    assert (await services.expert_round(settings, latecomer, study))["joined_late"] is True
    with pytest.raises(RuleError):
        await services.save_answers(settings, latecomer, study["id"], {}, submit=False)
    current = await services.latest_round(study["id"])
    reminded_before = await Notification.count().where(Notification.user == latecomer["id"])
    await services.send_reminders(settings, current["deadline"] - timedelta(days=1))
    assert await Notification.count().where(Notification.user == latecomer["id"]) == reminded_before
    removed = await services.remove_panelist(world["organiser"], study["id"], invited["panelist"])
    assert removed["warning"]
    stability = await services.panel_stability(study["id"])
    assert stability["initial"] == 4 and stability["left"] == 1 and stability["kept"] == 3


async def test_deadline_closes_rounds_and_reminders_go_once_to_those_who_have_not_answered(settings, world):
    study = await new_study(world)
    await add_questions(world, study)
    experts = await seat_panel(settings, world, study, 4)
    await services.open_round(settings, world["organiser"], study["id"], in_days(10))
    await answer_round(settings, study, experts[:1], ROUND_1[:1])
    now = services.now_utc()
    current = await services.latest_round(study["id"])
    assert await services.send_reminders(settings, now) == 0  # not yet two days before
    soon = current["deadline"] - timedelta(days=1)
    assert await services.send_reminders(settings, soon) >= 3  # (other tests' rounds too)
    assert await services.send_reminders(settings, soon) == 0  # once per round
    reminded = {r["user"] for r in await Notification.select(Notification.user).where(
        Notification.title.like("Reminder:%") & Notification.url.like(f"/delphi/{study['key']}%"))}
    assert reminded == {e["id"] for e in experts[1:]}
    texts = " ".join(r["title"] + r["body"] for r in await Notification.select().where(
        Notification.user.is_in([e["id"] for e in experts])))
    assert not any(e["display_name"] in texts for e in experts)
    assert await services.close_due_rounds(current["deadline"] + timedelta(minutes=1)) >= 1
    assert (await Round.select(Round.state).where(Round.id == current["id"]).first())["state"] == "closed"


async def test_publishing_indexes_aggregates_only(settings, world):
    from modules.delphi.search import public_document

    study = await new_study(world)
    await add_questions(world, study)
    experts = await seat_panel(settings, world, study, 5)
    await services.open_round(settings, world["organiser"], study["id"], in_days(10))
    await answer_round(settings, study, experts, ROUND_1)
    await services.close_round(world["organiser"], study["id"])
    await services.analyse_round(world["organiser"], study["id"])
    assert await public_document(study["id"]) is None
    with pytest.raises(RuleError):
        await services.publish(world["organiser"], study["id"])
    await services.finish(settings, world["organiser"], study["id"], "Plan 1450 places by 2030.")
    await services.publish(world["organiser"], study["id"])
    document = await public_document(study["id"])
    assert document.title == study["title"] and "1450" in document.body
    for answer in ROUND_1:
        for value, justification in answer.values():
            assert justification not in document.body
    data = await services.personal_data(experts[0]["id"], settings)
    assert data["delphi_panels"][0]["state"] == "accepted"
    assert {a["question"] for a in data["delphi_answers"]} == {"Q1", "Q2", "Q3"}


async def test_deleting_an_account_erases_the_addresses_invitations_went_to(settings, world):
    """The e-mail of an expert who deletes their account goes from every panel, also from an
    invitation not yet accepted; the answers stay under the pseudonym."""
    from civic.accounts.services import delete_account
    from modules.delphi import module
    from tests.support.web import make_user, unique_email

    expert = await make_user(unique_email("expert-leaving"), name="Expert Leaving")
    joined, pending = await new_study(world), await new_study(world)
    invitation = await services.invite(settings, world["organiser"], joined["id"], expert["email"], "geology")
    await services.respond(settings, expert, invitation["token"], True)
    await services.invite(settings, world["organiser"], pending["id"], expert["email"], "geology")

    await delete_account(settings, expert["id"], "correct horse battery", [module])
    rows = await Panelist.select(Panelist.study, Panelist.email).where(
        Panelist.study.is_in([joined["id"], pending["id"]]))
    assert len(rows) == 2 and all(r["email"].startswith("deleted-") for r in rows)
    assert not await Panelist.exists().where(Panelist.email == expert["email"])
