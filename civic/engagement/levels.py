"""The four levels of public participation (DOMAIN.md §1) and the four stakeholder groups (§2)."""

from civic.i18n.runtime import N_

INFORM = "inform"
CONSULT = "consult"
DIALOGUE = "dialogue"
PARTNERSHIP = "partnership"
LEVELS = (INFORM, CONSULT, DIALOGUE, PARTNERSHIP)

LEVEL_LABELS = {
    INFORM: N_("Informing"),
    CONSULT: N_("Consultation"),
    DIALOGUE: N_("Dialogue"),
    PARTNERSHIP: N_("Partnership"),
}

STAKEHOLDER_GROUPS = {
    "informed": "High interest, low influence: kept informed",
    "involved": "High interest, high influence: involved in drafting",
    "monitored": "Low interest, low influence: monitored",
    "satisfied": "Low interest, high influence: kept satisfied",
}
