"""The search page, its htmx fragments, the JSON API and the administrators' status page.

* ``GET /search``: the page (a plain GET form that works without JavaScript); with htmx the
  results region only (results as you type). Facets with counts, highlighted titles and
  snippets, pagination, order, spelling suggestions on an empty result.
* ``GET /search/similar``: the "similar items already exist" fragment for the forms of new
  ideas, petitions and appeals (empty when there is nothing to show).
* ``GET /api/v1/search`` and ``GET /api/v1/search/similar``: the same as JSON.
* ``GET /staff/search`` and ``POST /staff/search/apply``: documents in the database against
  documents in the index, the outbox, and applying it now (platform administrators).

Parameters that cannot be understood answer 400 with a clear message; page numbers and sizes
out of range are clamped; an engine that is down answers 503 "search is unavailable". An htmx
request gets its fragment with status 200 even then, because htmx does not swap error responses
and the reader would otherwise keep looking at stale results without being told.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.params import FromQuery

from civic.accounts.guards import administrator
from civic.engagement.levels import LEVEL_LABELS
from civic.i18n.runtime import N_, gettext as _, localized
from civic.web.flash import flash
from civic.web.pages import page, see_other
from search.backend import SearchUnavailable
from search.documents import KZ_TIME, LEVELS, SearchResults
from search.service import (
    DEFAULT_PER_PAGE, MAX_PAGE, BadParameter, SearchParams, apply_pending, index_status, parse_params,
    parse_similar, run_search, run_similar,
)

TAGS = ["search"]
UNAVAILABLE_TITLE = N_("Search is unavailable")
UNAVAILABLE_MESSAGE = N_("The search engine is not answering right now. Nothing you wrote is lost; "
                         "please try again in a few minutes.")
BAD_REQUEST_TITLE = N_("Something in the search is wrong")
SORT_LABELS = {"relevance": N_("Most relevant first"), "newest": N_("Newest first"), "oldest": N_("Oldest first")}
FACET_TITLES = {"module": N_("Section"), "territory": N_("Territory"), "status": N_("Status"),
                "level": N_("Participation level"), "year": N_("Year")}


# --------------------------------------------------------------------------- helpers


def _htmx(request: Request) -> bool:
    headers = request.headers
    return (headers.get("hx-request") == "true" and headers.get("hx-boosted") != "true"
            and headers.get("hx-history-restore-request") != "true")


def _module_slugs(state: State) -> list[str]:
    return [m.slug for m in state.modules]


def search_url(params: SearchParams, path: str = "/search", **changes: Any) -> str:
    """The address of the same search with some parameters changed (a filter changed goes back
    to the first page)."""
    if "page" not in changes:
        changes["page"] = 1
    items = replace(params, **changes).items()
    return path + ("?" + urlencode(items) if items else "")


def _toggle(values: tuple[str, ...], value: str) -> tuple[str, ...]:
    return tuple(v for v in values if v != value) if value in values else values + (value,)


def status_label(status: str) -> str:
    """Modules write statuses as keys ("under_review"); their labels are the same words as
    msgids ("Under review"), translated here."""
    return _(status.replace("_", " ").capitalize()) if status else ""


def level_label(level: str) -> str:
    return _(LEVEL_LABELS[level]) if level in LEVEL_LABELS else level


class Labels:
    """Reader-language names of modules, territories, statuses and levels."""

    def __init__(self, state: State, territories: dict[str, str]):
        self.modules = {m.slug: _(m.title) for m in state.modules}
        self.territories = territories

    def module(self, slug: str) -> str:
        return self.modules.get(slug, slug)

    def territory(self, path: str) -> str:
        if path in self.territories:
            return self.territories[path]
        parts = [p for p in path.split("/") if p]
        return parts[-1] if parts else path

    status = staticmethod(status_label)
    level = staticmethod(level_label)

    def value(self, facet: str, value: str) -> str:
        if facet == "module":
            return self.module(value)
        if facet == "territory":
            return self.territory(value)
        if facet == "status":
            return self.status(value)
        if facet == "level":
            return self.level(value)
        return value


async def _territory_names(paths: set[str]) -> dict[str, str]:
    from civic.territory.tables import Territory

    paths = {p for p in paths if p}
    if not paths:
        return {}
    rows = await Territory.select(Territory.path, Territory.name_kk, Territory.name_ru, Territory.name_en).where(
        Territory.path.is_in(sorted(paths)))
    return {row["path"]: localized(row, "name") for row in rows}


def _depth(path: str) -> int:
    return len([p for p in path.split("/") if p])


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _territory_children(params: SearchParams, counts: dict[str, int], total: int) -> list[str]:
    """The territories one level below the chosen one (or below the root) that have results.
    Without a choice, the first level that actually divides the results: when everything is in
    one place ("/kz/"), look one level down."""
    base = params.territory or "/"
    while True:
        children = sorted((p for p in counts if p.startswith(base) and _depth(p) == _depth(base) + 1),
                          key=lambda p: (-counts[p], p))
        if not params.territory and len(children) == 1 and counts[children[0]] == total \
                and any(p.startswith(children[0]) and p != children[0] for p in counts):
            base = children[0]
            continue
        return children


@dataclass
class FacetItem:
    value: str
    label: str
    count: int | None
    selected: bool
    url: str


@dataclass
class FacetGroup:
    name: str
    title: str
    items: list[FacetItem]


def facet_groups(params: SearchParams, results: SearchResults, labels: Labels,
                 facets: dict[str, dict[str, int]] | None = None) -> list[FacetGroup]:
    facets = results.facets if facets is None else facets
    groups: list[FacetGroup] = []
    for name in ("module", "status", "level"):
        counts = dict(facets.get(name, {}))
        chosen: tuple[str, ...] = getattr(params, name)
        for value in chosen:
            counts.setdefault(value, 0)
        order = (sorted(counts, key=lambda v: LEVELS.index(v) if v in LEVELS else 99) if name == "level"
                 else sorted(counts, key=lambda v: (-counts[v], labels.value(name, v))))
        items = [FacetItem(v, labels.value(name, v), counts[v], v in chosen,
                           search_url(params, **{name: _toggle(chosen, v)})) for v in order if v]
        if items:
            groups.append(FacetGroup(name, _(FACET_TITLES[name]), items))
    counts = facets.get("territory", {})
    items = []
    if params.territory:  # the way up (to widen the search), then the chosen one (to remove it)
        items += [FacetItem(p, labels.territory(p), None, False, search_url(params, territory=p))
                  for p in _ancestors(params.territory)[:-1]]
        items.append(FacetItem(params.territory, labels.territory(params.territory), counts.get(params.territory, 0),
                               True, search_url(params, territory="")))
    items += [FacetItem(p, labels.territory(p), counts[p], False, search_url(params, territory=p))
              for p in _territory_children(params, counts, results.total)]
    if items:
        groups.insert(min(1, len(groups)), FacetGroup("territory", _(FACET_TITLES["territory"]), items))
    years = {int(y): n for y, n in facets.get("year", {}).items() if str(y).isdigit()}
    if params.year is not None:
        years.setdefault(params.year, 0)
    if years:
        groups.append(FacetGroup("year", _(FACET_TITLES["year"]), [
            FacetItem(str(y), str(y), years[y], y == params.year,
                      search_url(params, year=None if y == params.year else y)) for y in sorted(years, reverse=True)]))
    return groups


def active_filters(params: SearchParams, labels: Labels) -> list[dict]:
    """Each chosen filter with the address of the same search without it."""
    out = []
    for name in ("module", "status", "level"):
        for value in getattr(params, name):
            out.append({"title": _(FACET_TITLES[name]), "label": labels.value(name, value),
                        "url": search_url(params, **{name: _toggle(getattr(params, name), value)})})
    if params.territory:
        out.append({"title": _(FACET_TITLES["territory"]), "label": labels.territory(params.territory),
                    "url": search_url(params, territory="")})
    if params.year is not None:
        out.append({"title": _(FACET_TITLES["year"]), "label": str(params.year), "url": search_url(params, year=None)})
    return out


def page_links(params: SearchParams, results: SearchResults) -> list[dict]:
    """Page numbers around the current one, with the first and last ("…" between)."""
    last = min(results.pages, MAX_PAGE)
    if last <= 1:
        return []
    shown = sorted({1, last, *range(max(1, params.page - 2), min(last, params.page + 2) + 1)})
    links: list[dict] = []
    previous = 0
    for number in shown:
        if number - previous > 1:
            links.append({"gap": True})
        links.append({"number": number, "url": search_url(params, page=number), "current": number == params.page})
        previous = number
    return links


async def _facet_counts(backend, params: SearchParams, results: SearchResults,
                        scope: list[str]) -> dict[str, dict[str, int]]:
    """Facet counts where a chosen value does not hide the others: the counts of a facet with a
    choice come from the same search without that choice, so a second module or another year
    can be added or switched to (one small extra query per facet in use)."""
    facets = dict(results.facets)
    for name in ("module", "status", "level", "year"):
        if getattr(params, name) in ((), None):
            continue
        wider = replace(params, **{name: None if name == "year" else ()}, page=1, per_page=1)
        try:
            facets[name] = (await run_search(backend, wider.query(facets=(name,), scope=scope))).facets.get(name, {})
        except SearchUnavailable:
            pass
    return facets


def _cards(results: SearchResults, labels: Labels) -> list[dict]:
    return [{"hit": hit, "module": labels.module(hit.module), "territory": labels.territory(hit.territory),
             "status": labels.status(hit.status), "level": labels.level(hit.level) if hit.level else "",
             "date": hit.created_at.astimezone(KZ_TIME).date()}
            for hit in results.hits]


def _error(title: str, message: str) -> dict:
    return {"title": _(title), "message": message}


def _api_error(status_code: int, detail: str, field: str | None = None) -> Response:
    body: dict[str, Any] = {"status_code": status_code, "detail": detail}
    headers = {}
    if field:
        body["field"] = field
    if status_code == 503:
        headers["retry-after"] = "30"
    return Response(body, status_code=status_code, headers=headers)


# --------------------------------------------------------------------------- the page


@get("/search", name="search", include_in_schema=False)
async def search_page(request: Request, state: State) -> Response:
    htmx = _htmx(request)
    context: dict[str, Any] = {"params": SearchParams(q=request.query_params.get("q", "")[:500]),
                               "results": None, "error": None, "sort_labels": SORT_LABELS,
                               "default_per_page": DEFAULT_PER_PAGE}
    status_code = 200
    try:
        params = parse_params(request.query_params, _module_slugs(state))
        context["params"] = params
        results = await run_search(state.search, params.query(scope=_module_slugs(state)))
    except BadParameter as exc:
        status_code = 400
        context["error"] = _error(BAD_REQUEST_TITLE, _(exc.msgid, **exc.params))
    except SearchUnavailable:
        status_code = 503
        context["error"] = _error(UNAVAILABLE_TITLE, _(UNAVAILABLE_MESSAGE))
    else:
        paths = {h.territory for h in results.hits} | set(results.facets.get("territory", {})) | {params.territory}
        labels = Labels(state, await _territory_names(paths))
        facets = await _facet_counts(state.search, params, results, _module_slugs(state))
        context.update(
            results=results, cards=_cards(results, labels), facets=facet_groups(params, results, labels, facets),
            filters=active_filters(params, labels), pages=page_links(params, results),
            previous_url=search_url(params, page=params.page - 1) if params.page > 1 else None,
            next_url=search_url(params, page=params.page + 1) if params.page < min(results.pages, MAX_PAGE) else None,
            suggestions=[{"text": s, "url": search_url(params, q=s)} for s in results.suggestions],
            without_filters=search_url(params, module=(), territory="", status=(), level=(), year=None),
            first=(params.page - 1) * params.per_page + 1, first_page_url=search_url(params, page=1),
        )
    response = page(request, "search/page.html", context, status_code=200 if htmx else status_code,
                    block="results" if htmx else None)
    response.headers["vary"] = "HX-Request"
    if status_code == 503 and not htmx:
        response.headers["retry-after"] = "30"
    return response


@get("/search/similar", include_in_schema=False)
async def similar_fragment(request: Request, state: State) -> Response:
    """The "similar items already exist" list; empty (no markup at all) when there is nothing to
    show, the text is too short, or the engine is down (the form works without it)."""
    return await _similar_html(request, state)


async def _similar_html(request: Request, state: State) -> Response:
    hits = []
    status_code = 200
    try:
        params = parse_similar(request.query_params, _module_slugs(state))
        hits = await run_similar(state.search, params, set(_module_slugs(state)))
    except BadParameter:
        status_code = 200 if _htmx(request) else 400
    except SearchUnavailable:
        pass
    labels = Labels(state, await _territory_names({h.territory for h in hits}))
    cards = [{"hit": h, "module": labels.module(h.module), "status": labels.status(h.status),
              "date": h.created_at.astimezone(KZ_TIME).date()} for h in hits]
    return page(request, "search/similar.html", {"cards": cards}, status_code=status_code)


# --------------------------------------------------------------------------- the API


@get("/api/v1/search", tags=TAGS, summary="Search every public record")
async def api_search(
    request: Request, state: State,
    q: FromQuery[str | None] = None, module: FromQuery[list[str] | None] = None,
    territory: FromQuery[str | None] = None, status: FromQuery[list[str] | None] = None,
    level: FromQuery[list[str] | None] = None, year: FromQuery[str | None] = None,
    sort: FromQuery[str | None] = None, page: FromQuery[str | None] = None,
    per_page: FromQuery[str | None] = None,
) -> Response:
    """The same search as the page: ``q`` (words; typos, Kazakh suffixes and either script
    allowed), filters ``module``, ``status``, ``level`` (each repeatable: any of them),
    ``territory`` (a path such as ``/kz/almaty/bostandyk/``, including everything below it) and
    ``year``; ``sort`` (relevance, newest, oldest), ``page`` and ``per_page`` (at most 50).
    Answers hits with highlighted ``title_html`` and ``snippet_html``, the total, facet counts
    (module, territory, status, level, year) and spelling ``suggestions`` when nothing is found.
    400 with ``detail`` and ``field`` for a parameter that cannot be understood; 503 when the
    search engine is unavailable."""
    try:
        params = parse_params(request.query_params, _module_slugs(state))
        results = await run_search(state.search, params.query(scope=_module_slugs(state)))
    except BadParameter as exc:
        return _api_error(400, _(exc.msgid, **exc.params), exc.name)
    except SearchUnavailable:
        return _api_error(503, _(UNAVAILABLE_MESSAGE))
    return Response(results.as_dict())


@get("/api/v1/search/similar", tags=TAGS, summary="Existing public items similar to a text")
async def api_similar(
    request: Request, state: State, text: FromQuery[str | None] = None,
    module: FromQuery[str | None] = None, limit: FromQuery[str | None] = None,
) -> Response:
    """The closest existing public items to a text being typed (the title of a new idea,
    petition or appeal): items sharing at least half of its significant words, most shared
    first. ``module`` keeps them to one module; ``limit`` is 1 to 20 (5 by default). Answers
    ``{"hits": [...]}``; an htmx request gets the HTML list of ``/search/similar`` instead."""
    if _htmx(request):
        return await _similar_html(request, state)
    try:
        params = parse_similar(request.query_params, _module_slugs(state))
        hits = await run_similar(state.search, params, set(_module_slugs(state)))
    except BadParameter as exc:
        return _api_error(400, _(exc.msgid, **exc.params), exc.name)
    except SearchUnavailable:
        return _api_error(503, _(UNAVAILABLE_MESSAGE))
    return Response({"hits": [h.as_dict() for h in hits]})


# --------------------------------------------------------------------------- administrators


@get("/staff/search", guards=[administrator], include_in_schema=False)
async def status_page(request: Request, state: State) -> Response:
    status = await index_status(state.search, state.modules)
    titles = {m.slug: _(m.title) for m in state.modules}
    return page(request, "search/status.html", {"status": status, "titles": titles})


@post("/staff/search/apply", guards=[administrator], include_in_schema=False)
async def apply_now(request: Request, state: State) -> Response:
    from search.outbox import pending_count

    applied = await apply_pending(state.search)
    left = await pending_count()
    if left:
        flash(request, _("%(applied)s change(s) applied; %(left)s still waiting: the search engine is not taking them.",
                         applied=applied, left=left), "warning")
    else:
        flash(request, _("%(applied)s change(s) applied; nothing is waiting.", applied=applied), "success")
    return see_other("/staff/search")


def router() -> Router:
    return Router(path="/", route_handlers=[search_page, similar_fragment, api_search, api_similar, status_page,
                                            apply_now])
