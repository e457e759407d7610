"""A module that exists only for tests of the module contract."""

from litestar import Request, Response, Router, get

from civic.modules import CivicModule, NavEntry
from civic.web.pages import page


@get("/sample")
async def sample_page(request: Request) -> Response:
    return page(request, "core/error.html", {"title": "Sample mechanism", "message": "Sample page",
                                             "status_code": 200})


@get("/api/v1/sample", tags=["sample"])
async def sample_api() -> dict:
    return {"sample": True}


module = CivicModule(
    slug="sample",
    title="Sample mechanism",
    router=lambda: Router(path="/", route_handlers=[sample_page]),
    api_router=lambda: Router(path="/", route_handlers=[sample_api]),
    nav=(NavEntry("Sample mechanism", "/sample"),),
    levels=("consult",),
)
