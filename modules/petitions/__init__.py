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
from civic.modules import CivicModule, Export, Hooks, NavEntry, PeriodicJob, Role, Topic, lazy

module = CivicModule(
    slug="petitions",
    title=N_("Petitions"),
    piccolo_app="modules.petitions.piccolo_app",
    router=lazy("modules.petitions.routes:router"),
    api_router=lazy("modules.petitions.api:router"),
    nav=(NavEntry(N_("Petitions"), "/petitions"),),
    staff_links=(NavEntry(N_("Moderation of petitions"), "/petitions/moderation"),
                 NavEntry(N_("Rules for petitions"), "/petitions/rules")),
    levels=(DIALOGUE,),
    kind_levels={"petition": (DIALOGUE,)},
    roles=(Role("moderator", N_("Moderator")),),
    topics=(Topic("petitions", N_("Petitions you started or signed")),),
    hooks=Hooks(answer=lazy("modules.petitions.services:on_answer")),
    exports=(Export(N_("Open data (CSV)"), "/petitions/export.csv"),
             Export(N_("Open data (JSON)"), "/petitions/export.json")),
    search_documents=lazy("modules.petitions.search:search_documents"),
    resolve_references=lazy("modules.petitions.references:resolve"),
    load_demo=lazy("modules.petitions.demo:load_demo"),
    personal_data=lazy("modules.petitions.services:personal_data"),
    forget_person=lazy("modules.petitions.services:forget_signer"),
    periodic_jobs=(PeriodicJob("close_expired", 600, lazy("modules.petitions.services:close_expired_job")),
                   PeriodicJob("tell_moderators_of_flags", 60, lazy("modules.petitions.services:flags_job")),
                   PeriodicJob("anonymise_signers", 3600, lazy("modules.petitions.services:anonymise_job"))),
)
