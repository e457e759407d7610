"""Delphi: experts of a working group answer in rounds, anonymously, until they converge; the
akimat gets a justified, reproducible forecast or recommendation (DOMAIN.md §3 "Delphi method
for working groups", report lines 1861–1953; foresight, lines 1698–1736).

What the module offers, in one place:

* pages under ``/delphi`` — published studies for everyone; for an organiser of a working
  group: creating a study (classic, foresight with a roadmap, critical technologies), inviting
  the panel by e-mail, the questionnaire of each round (numeric estimate, scale 1–9 or 1–5,
  probability, year of an event, ranking, free text), and the round's lifecycle draft → open →
  closed → analysed → next round; for an expert: accepting the invitation and answering a round
  (draft saved, answers justified) with the group's feedback from the previous round — median,
  quartiles, IQR, histogram, their own answer and the anonymised justifications, those outside
  the interquartile range first;
* the results of a study: convergence across rounds (SVG chart and table), consensus state per
  question, minority justifications, the roadmap of a foresight study; a CSV of anonymised
  answers by round and a printable report; published results are public and searchable;
* anonymity by construction (``tables`` explains the pseudonyms): organisers see response rates,
  never who answered what; statistics are withheld below 3 answers;
* a JSON API under ``/api/v1/delphi`` with the aggregates of published studies;
* periodic jobs for ``civic worker``: close rounds at their deadline and remind experts who
  have not yet answered two days before it;
* search documents for published studies (aggregates only), demo data, and an expert's part of
  their personal data export.
"""

from civic.engagement.levels import CONSULT
from civic.i18n.runtime import N_
from civic.modules import CivicModule, NavEntry, PeriodicJob, Role, Topic, lazy

module = CivicModule(
    slug="delphi",
    title=N_("Delphi studies"),
    piccolo_app="modules.delphi.piccolo_app",
    router=lazy("modules.delphi.routes:router"),
    api_router=lazy("modules.delphi.api:router"),
    nav=(NavEntry(N_("Delphi studies"), "/delphi"),),
    levels=(CONSULT,),
    kind_levels={"study": (CONSULT,)},
    roles=(Role("organiser", N_("Organiser")), Role("expert", N_("Expert"))),
    topics=(Topic("delphi", N_("Delphi studies you take part in")),),
    search_documents=lazy("modules.delphi.search:search_documents"),
    resolve_references=lazy("modules.delphi.references:resolve"),
    load_demo=lazy("modules.delphi.demo:load_demo"),
    personal_data=lazy("modules.delphi.services:personal_data"),
    forget_person=lazy("modules.delphi.services:forget_expert"),
    periodic_jobs=(PeriodicJob("close_due_rounds", 300, lazy("modules.delphi.services:close_due_rounds"),
                               with_settings=False),
                   PeriodicJob("remind_experts", 3600, lazy("modules.delphi.services:send_reminders"))),
)
