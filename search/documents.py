"""What goes into the one search index, what a search asks, and what it answers.

A module turns each *public* record into a :class:`Document`; the page and the API build a
:class:`SearchQuery`; both backends answer with :class:`SearchResults` whose hits carry the
document's fields plus a highlighted title and snippet (safe HTML: ``<mark>`` around matches,
everything else escaped).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Sequence

from markupsafe import Markup

__all__ = [
    "Document", "SearchQuery", "SearchResults", "Hit", "FACETS", "LEVELS", "LANGS", "SORTS",
    "MAX_PER_PAGE", "KZ_TIME", "territory_paths", "normalise_territory",
]

#: Participation levels (civic.engagement).
LEVELS = ("inform", "consult", "dialogue", "partnership")
LANGS = ("kk", "ru", "en")
SORTS = ("relevance", "newest", "oldest")
#: Facets a query may ask counts for. "territory" counts every path prefix (a district counts
#: its okrugs' documents too).
FACETS = ("module", "kind", "territory", "organisation", "status", "level", "lang", "year")
MAX_PER_PAGE = 50

#: Kazakhstan has one time zone, UTC+5, since 1 March 2024: "year" is the year there.
KZ_TIME = timezone(timedelta(hours=5), "KZ")


def normalise_territory(path: str) -> str:
    """'/kz/almaty/bostandyk' or 'kz/almaty/bostandyk/' -> '/kz/almaty/bostandyk/'."""
    path = (path or "").strip()
    if not path:
        return ""
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts) + "/" if parts else "/"


def territory_paths(path: str) -> list[str]:
    """Every prefix of a territory path: '/kz/almaty/' -> ['/kz/', '/kz/almaty/']."""
    parts = [p for p in (path or "").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


@dataclass(frozen=True, slots=True)
class Document:
    """One public record of one module, as the index sees it."""

    id: str  # "<module>:<key>", e.g. "ideas:42"
    module: str
    kind: str  # what the record is inside its module: "idea", "petition", "answer" ...
    title: str
    body: str
    territory: str  # "/kz/almaty/bostandyk/" (normalised to leading and trailing "/")
    organisation: str  # slug of the responsible organisation, "" if none
    status: str
    level: str  # participation level (LEVELS) or ""
    lang: str  # "kk", "ru" or "en"
    created_at: datetime  # timezone-aware
    url: str
    summary: str = ""  # short text for result cards

    def __post_init__(self) -> None:
        if not self.id or ":" not in self.id:
            raise ValueError(f"Document id must look like 'module:key', got {self.id!r}")
        if not isinstance(self.created_at, datetime) or self.created_at.tzinfo is None \
                or self.created_at.utcoffset() is None:
            raise ValueError(f"Document {self.id}: created_at must be a timezone-aware datetime")
        if self.level and self.level not in LEVELS:
            raise ValueError(f"Document {self.id}: level must be one of {LEVELS}, got {self.level!r}")
        if self.lang and self.lang not in LANGS:
            raise ValueError(f"Document {self.id}: lang must be one of {LANGS}, got {self.lang!r}")
        territory = normalise_territory(self.territory)
        if territory != self.territory:
            object.__setattr__(self, "territory", territory)

    @property
    def year(self) -> int:
        return self.created_at.astimezone(KZ_TIME).year

    @property
    def timestamp(self) -> int:
        """Seconds since the epoch (sort key)."""
        return int(self.created_at.timestamp())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (created_at in ISO 8601)."""
        data = {name: getattr(self, name) for name in DOCUMENT_FIELDS}
        data["created_at"] = self.created_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        values = {name: data[name] for name in DOCUMENT_FIELDS if name in data}
        if isinstance(values.get("created_at"), str):
            values["created_at"] = datetime.fromisoformat(values["created_at"])
        return cls(**values)


DOCUMENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Document))

FilterValue = str | Sequence[str] | None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search: free text, filters, which facet counts to compute, page and order.

    A filter is one value or a list of values (any of them). ``territory`` is a path prefix:
    "/kz/almaty/bostandyk/" includes that district's okrugs. ``per_page`` is capped at
    :data:`MAX_PER_PAGE`, ``page`` starts at 1. With no text, "relevance" means newest first.
    """

    text: str = ""
    module: FilterValue = None
    kind: FilterValue = None
    territory: str | None = None
    organisation: FilterValue = None
    status: FilterValue = None
    level: FilterValue = None
    lang: FilterValue = None
    year: int | None = None
    facets: tuple[str, ...] = ()
    page: int = 1
    per_page: int = 20
    sort: Literal["relevance", "newest", "oldest"] = "relevance"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        # trailing space kept: "дороги " is a finished word, "дороги" may still be typed
        text = (self.text or "")[:500].lstrip()
        set_(self, "text", text if text.strip() else "")
        set_(self, "facets", tuple(dict.fromkeys(self.facets or ())))
        bad = [f for f in self.facets if f not in FACETS]
        if bad:
            raise ValueError(f"unknown facet {bad[0]!r}; facets are {FACETS}")
        if self.sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}, got {self.sort!r}")
        set_(self, "page", max(1, int(self.page or 1)))
        set_(self, "per_page", min(MAX_PER_PAGE, max(1, int(self.per_page or 1))))
        if self.territory:
            set_(self, "territory", normalise_territory(self.territory))
        if self.year is not None:
            set_(self, "year", int(self.year))
        for name in ("module", "kind", "organisation", "status", "level", "lang"):
            value = getattr(self, name)
            if value is None or isinstance(value, str):
                set_(self, name, value or None)
            else:
                set_(self, name, tuple(v for v in value if v) or None)

    def filters(self) -> dict[str, tuple[str, ...]]:
        """The set filters as {field: (values...)} (territory and year included)."""
        out: dict[str, tuple[str, ...]] = {}
        for name in ("module", "kind", "organisation", "status", "level", "lang"):
            value = getattr(self, name)
            if value:
                out[name] = (value,) if isinstance(value, str) else tuple(value)
        if self.territory:
            out["territory"] = (self.territory,)
        if self.year is not None:
            out["year"] = (str(self.year),)
        return out

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True, slots=True)
class Hit:
    """A found document: its fields, plus ``title_html`` and ``snippet_html`` (safe HTML,
    ``<mark>`` around the words that matched)."""

    id: str
    module: str
    kind: str
    title: str
    body: str
    territory: str
    organisation: str
    status: str
    level: str
    lang: str
    created_at: datetime
    url: str
    summary: str
    title_html: Markup
    snippet_html: Markup
    score: float | None = None

    @property
    def document(self) -> Document:
        return Document(**{name: getattr(self, name) for name in DOCUMENT_FIELDS})

    def as_dict(self, body: bool = False) -> dict[str, Any]:
        """JSON-ready; the (possibly long) body only when asked for."""
        data = {name: getattr(self, name) for name in DOCUMENT_FIELDS if body or name != "body"}
        data["created_at"] = self.created_at.isoformat()
        data["title_html"] = str(self.title_html)
        data["snippet_html"] = str(self.snippet_html)
        data["score"] = self.score
        return data


@dataclass(frozen=True, slots=True)
class SearchResults:
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestions: list[str] = field(default_factory=list)  # spelling corrections (empty results)
    took_ms: float = 0.0

    @property
    def pages(self) -> int:
        return (self.total + self.per_page - 1) // self.per_page if self.total else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "hits": [h.as_dict() for h in self.hits],
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "facets": self.facets,
            "suggestions": self.suggestions,
            "took_ms": self.took_ms,
        }
