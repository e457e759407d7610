"""Crowdsourced ideas and akimat challenges: propose, discuss, support, moderate, answer, and
track to delivery (DOMAIN.md "Crowdsourcing" and "Answering citizens").

What the module offers, in one place:

* pages under ``/ideas`` — lists (new, most supported, trending, most discussed, answered), an
  idea's page with its discussion, supports, status history, official answer and delivery
  record; challenges under ``/ideas/challenges``; the moderation queue and the public
  moderation log; CSV and JSON open data at ``/ideas/export.csv`` and ``/ideas/export.json``;
* a JSON API under ``/api/v1/ideas`` (list, read, propose, support, comment; token auth);
* official answers through ``civic.responses`` when an idea reaches its organisation's support
  threshold or is shortlisted in a challenge; the answer reaches every supporter;
* search documents for every public idea and challenge, demo data, and its part of a person's
  data export.
"""

from civic.engagement.levels import CONSULT, DIALOGUE
from civic.i18n.runtime import N_
from civic.modules import CivicModule, Export, Hooks, NavEntry, Role, Topic, lazy

module = CivicModule(
    slug="ideas",
    title=N_("Ideas"),
    piccolo_app="modules.ideas.piccolo_app",
    router=lazy("modules.ideas.routes:router"),
    api_router=lazy("modules.ideas.api:router"),
    nav=(NavEntry(N_("Ideas"), "/ideas"), NavEntry(N_("Challenges"), "/ideas/challenges")),
    staff_links=(NavEntry(N_("Moderation of ideas"), "/ideas/moderation"),
                 NavEntry(N_("Rules for ideas"), "/ideas/policy")),
    levels=(CONSULT, DIALOGUE),
    kind_levels={"idea": (CONSULT,), "challenge": (CONSULT, DIALOGUE)},  # a challenge names its level
    roles=(Role("moderator", N_("Moderator")),),
    topics=(Topic("ideas", N_("Ideas you proposed, support or follow")),),
    hooks=Hooks(answer=lazy("modules.ideas.services:on_answer")),
    exports=(Export(N_("Open data (CSV)"), "/ideas/export.csv"), Export(N_("Open data (JSON)"), "/ideas/export.json")),
    search_documents=lazy("modules.ideas.search:search_documents"),
    resolve_references=lazy("modules.ideas.references:resolve"),
    load_demo=lazy("modules.ideas.demo:load_demo"),
    personal_data=lazy("modules.ideas.services:personal_data"),
)
