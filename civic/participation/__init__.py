"""Shared participation pieces (ARCHITECTURE.md, "Shared participation pieces"): supports and
votes, discussion with its moderation queue and public log, follows — written once, keyed by the
subject id a record has in the search index (``"ideas:42"``), and used by every module."""

from civic.participation.access import may_in, moderated_organisations, moderates_anywhere, organisations_below

__all__ = ["may_in", "moderated_organisations", "moderates_anywhere", "organisations_below"]
