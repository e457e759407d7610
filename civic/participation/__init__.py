"""Shared participation pieces (ARCHITECTURE.md, "Shared participation pieces"): supports and
votes, discussion with its moderation queue and public log, follows — written once, keyed by the
subject id a record has in the search index (``"ideas:42"``), and used by every module.

- :mod:`civic.participation.supports`: one support (vote) per person, the module's counter and
  threshold hook in the same transaction;
- :mod:`civic.participation.follows`: who hears of a subject;
- :mod:`civic.participation.discussion`: comments and replies, edit window, reports, the
  moderation queue's items, placeholders and the public moderation log;
- :mod:`civic.participation.people`: a person's data export and account deletion;
- templates: ``components/discussion.html`` and ``components/moderation_log.html``.
"""

from civic.participation.access import may_in, moderated_organisations, moderates_anywhere, organisations_below

__all__ = ["may_in", "moderated_organisations", "moderates_anywhere", "organisations_below"]
