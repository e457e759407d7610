"""Public pages for territories and organisations, with each body's answering figures."""

from __future__ import annotations

from litestar.params import FromPath
from litestar import Request, Response, Router, get
from litestar.exceptions import NotFoundException

from civic.territory import services
from civic.web.pages import page


@get("/organisations")
async def organisation_list(request: Request) -> Response:
    return page(request, "core/organisations.html", {"organisations": await services.organisations(),
                                                     "territories": await services.territory_tree()})


@get("/organisations/{slug:str}")
async def organisation_detail(request: Request, slug: FromPath[str]) -> Response:
    from civic.responses.services import organisation_figures

    organisation = await services.organisation_by_slug(slug)
    if organisation is None:
        raise NotFoundException()
    return page(request, "core/organisation.html", {
        "organisation": organisation, "figures": await organisation_figures(organisation["id"]),
    })


def router() -> Router:
    return Router(path="/", route_handlers=[organisation_list, organisation_detail])
