"""Citizens' appeals with one end-to-end number, and the weekly reception schedules of the city
departments (DOMAIN.md "Answering citizens"; seeds 004 "SMART-appeals" and 000 "no more
re-routing").

What the module offers, in one place:

* one window at ``/appeals/new`` for a request, complaint or proposal (сұраныс / шағым /
  ұсыныс) with category, territory and attachments; staff register appeals that came by phone,
  letter, e-mail or to a reception at ``/appeals/staff/new``, naming the channel;
* one number for the appeal's whole life in every body it reaches (``ALM-2026-000123``) and a
  public status page at ``/appeals/<number>`` with no personal data on it;
* routing to the competent body through ``civic.responses`` (deadlines, forwarding within 3
  working days — counted as re-routing —, extension, traffic light, rating, escalation);
* duplicates: similar open appeals (search index) shown to staff, joining, one answer for all
  joined appeals valid 30 calendar days; the same person cannot file the same appeal again
  within 15 days; a joint answer when several bodies are addressed;
* publication only with the citizen's consent and after officials removed personal data;
* the "pain points" analysis with charts and CSV at ``/appeals/analysis``, a JSON export per
  appeal for registering it in e-Otinish, and the e-Otinish number once registered;
* reception schedules at ``/appeals/receptions``: weekly slots, booking, reminders the day
  before (periodic job ``appeals.reception_reminders``), outcomes, and the dashboard of people
  advised per month against the target of 200;
* ``/api/v1/appeals`` (file, read one's own, status by number; token auth), search documents,
  demo data and its part of a person's data export.
"""

from civic.engagement.levels import DIALOGUE
from civic.i18n.runtime import N_
from civic.modules import CivicModule, Export, Hooks, NavEntry, PeriodicJob, Topic, lazy

module = CivicModule(
    slug="appeals",
    title=N_("Appeals"),
    piccolo_app="modules.appeals.piccolo_app",
    router=lazy("modules.appeals.routes:router"),
    api_router=lazy("modules.appeals.api:router"),
    nav=(NavEntry(N_("Appeals"), "/appeals"), NavEntry(N_("Receptions"), "/appeals/receptions")),
    staff_links=(NavEntry(N_("Appeals to handle"), "/appeals/staff"),
                 NavEntry(N_("Reception schedules"), "/appeals/receptions/staff")),
    levels=(DIALOGUE,),
    kind_levels={"appeal": (DIALOGUE,)},
    roles=(),  # officials and administrators: the core's own roles
    topics=(Topic("appeals", N_("Your appeals and reception bookings")),),
    hooks=Hooks(answer=lazy("modules.appeals.services:on_answer"),
                forward=lazy("modules.appeals.services:on_forward")),
    exports=(Export(N_("Download these figures as CSV (one line per month, category, district, body, channel and kind)"),
                    "/appeals/analysis.csv"),),
    search_documents=lazy("modules.appeals.search:search_documents"),
    resolve_references=lazy("modules.appeals.references:resolve"),
    load_demo=lazy("modules.appeals.demo:load_demo"),
    personal_data=lazy("modules.appeals.services:personal_data"),
    forget_person=lazy("modules.appeals.services:forget_person"),
    periodic_jobs=(PeriodicJob("reception_reminders", 3600, lazy("modules.appeals.receptions:queue_reminders"),
                               with_settings=False),),
)
