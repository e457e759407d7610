"""A module that exists only for tests of the module contract: it uses every field of the
manifest, with lazy references to this file."""

from litestar import Request, Response, Router, get

from civic.modules import CivicModule, Export, Hooks, NavEntry, PeriodicJob, Role, Topic, lazy
from civic.permissions import Action
from civic.web.pages import page

heard: list[tuple[str, str]] = []  # (event, subject) the hooks received
job_runs: list[str] = []


@get("/sample")
async def sample_page(request: Request) -> Response:
    return page(request, "core/error.html", {"title": "Sample mechanism", "message": "Sample page",
                                             "status_code": 200})


@get("/api/v1/sample", tags=["sample"])
async def sample_api() -> dict:
    return {"sample": True}


def router() -> Router:
    return Router(path="/", route_handlers=[sample_page])


def api_router() -> Router:
    return Router(path="/", route_handlers=[sample_api])


async def on_answer(response) -> None:
    heard.append(("answer", response.subject))


async def on_forward(response) -> None:
    heard.append(("forward", response.subject))


async def on_close(response) -> None:
    heard.append(("close", response.subject))


async def tidy(settings) -> int:
    job_runs.append("tidy")
    return 1


CURATE = Action("sample.curate", roles=("sample_curator",))
ACTIONS = (CURATE,)

module = CivicModule(
    slug="sample",
    title="Sample mechanism",
    router=lazy("tests.support.sample_module:router"),
    api_router=lazy("tests.support.sample_module:api_router"),
    nav=(NavEntry("Sample mechanism", "/sample"),),
    levels=("consult",),
    kind_levels={"sample": ("consult",)},
    roles=(Role("sample_curator", "Curator"),),
    permissions=lazy("tests.support.sample_module:ACTIONS"),
    topics=(Topic("sample", "Sample things you follow"),),
    hooks=Hooks(answer=lazy("tests.support.sample_module:on_answer"),
                forward=lazy("tests.support.sample_module:on_forward"),
                close=lazy("tests.support.sample_module:on_close")),
    exports=(Export("Open data (CSV)", "/sample/export.csv"),),
    periodic_jobs=(PeriodicJob("tidy", 60, lazy("tests.support.sample_module:tidy")),),
)
