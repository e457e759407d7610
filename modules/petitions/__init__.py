"""Petitions: a verified person asks an akimat, a maslikhat or a department for something;
with enough signatures the addressee must answer officially (DOMAIN.md §3 "Complaints,
petitions, contests" and §5 "Answering citizens"; issue 5).

What the module offers, in one place:

* pages under ``/petitions`` — the public list (listed petitions only), starting a petition
  (similar petitions appear while typing), a petition's page reached by its random link with
  signing (htmx, and plain forms without JavaScript), the signatures by district as a table and
  a chart, the official answer and the outcome; the moderation queue with due dates, the review
  of suspicious signatures with bulk striking out, and each addressee's rules;
* open data: ``/petitions/export.csv`` and ``/petitions/export.json``;
* a JSON API under ``/api/v1/petitions`` (list, read, sign, withdraw; token auth);
* an official response through ``civic.responses`` when a petition reaches its threshold; the
  answer is published on the petition and sent to every signer;
* periodic jobs for ``civic worker``: close petitions whose signing period ended, tell moderators
  of petitions flagged for a burst of signatures, and anonymise the signers' personal data of old
  closed petitions;
* search documents for every listed petition, demo data, and its part of a person's data export.
"""

from civic.engagement.levels import DIALOGUE
from civic.i18n.runtime import N_
from civic.modules import CivicModule, NavEntry
from civic.notify.services import register_topic
from civic.responses.services import register_answer_hook


def _router():
    from modules.petitions.routes import router

    return router()


def _api_router():
    from modules.petitions.api import router

    return router()


async def _load_demo(settings, progress) -> None:
    from modules.petitions.demo import load_demo

    await load_demo(settings, progress)


async def _forget_person(user_id: int) -> None:
    from modules.petitions.services import forget_signer

    await forget_signer(user_id)


async def _personal_data(user_id: int) -> dict:
    from modules.petitions.services import personal_data

    return await personal_data(user_id)


def _search_documents():
    from modules.petitions.search import search_documents

    return search_documents()


async def _on_answer(response) -> None:
    from modules.petitions.services import on_answer

    await on_answer(response)


async def _close_expired(settings) -> int:
    from modules.petitions.services import close_expired_job

    return await close_expired_job(settings)


async def _tell_moderators(settings) -> int:
    from modules.petitions.services import flags_job

    return await flags_job(settings)


async def _anonymise(settings) -> int:
    from modules.petitions.services import anonymise_job

    return await anonymise_job(settings)


register_answer_hook("petitions", _on_answer)
register_topic("petitions", N_("Petitions you started or signed"))

module = CivicModule(
    slug="petitions",
    title=N_("Petitions"),
    piccolo_app="modules.petitions.piccolo_app",
    router=_router,
    api_router=_api_router,
    nav=(NavEntry(N_("Petitions"), "/petitions"),),
    levels=(DIALOGUE,),
    roles=("moderator", "official", "administrator"),
    search_documents=_search_documents,
    load_demo=_load_demo,
    personal_data=_personal_data,
    forget_person=_forget_person,
    periodic_jobs=(("close_expired", 600, _close_expired), ("tell_moderators_of_flags", 60, _tell_moderators),
                   ("anonymise_signers", 3600, _anonymise)),
    staff_links=(NavEntry(N_("Moderation of petitions"), "/petitions/moderation"),
                 NavEntry(N_("Rules for petitions"), "/petitions/rules")),
)
