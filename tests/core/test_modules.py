"""The module contract: a module switched off in settings leaves no trace, and every
remaining page still works."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import uuid
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from ashyq.app import create_app
from ashyq.manifests import build_modules
from ashyq.worker import ALMATY, core_jobs, run_round, schedule_for
from civic.accounts.roles import CORE_ROLES, assignable_roles, known_roles
from civic.accounts.services import add_membership
from civic.rules import RuleError
from civic.accounts.tables import Membership
from civic.modules import (CivicModule, Hooks, PeriodicJob, Role, available_module_names, enabled_modules, lazy,
                           load_module)
from civic.notify import services as notify_services
from civic.responses import services as responses
from civic.settings import SettingsError
from civic.territory.tables import Organisation, Territory
from tests.support import sample_module
from tests.support.web import make_user, sign_in, unique_email


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def _plain_get_paths(app) -> list[str]:
    """Every page address without path parameters."""
    paths = set()
    for route in app.routes:
        if "{" in route.path or route.path.startswith("/static") or route.path.startswith("/schema/"):
            continue
        if "GET" in getattr(route, "methods", set()):
            paths.add(route.path)
    return sorted(paths)


async def test_enabled_module_appears_in_navigation_pages_and_api(settings, database):
    app = create_app(dataclasses.replace(settings, modules=("sample",)), extra_modules=(sample_module.module,))
    async with _client(app) as client:
        home = await client.get("/")
        assert 'href="/sample"' in home.text
        assert (await client.get("/sample")).status_code == 200
        assert (await client.get("/api/v1/sample")).json() == {"sample": True}
        spec = (await client.get("/schema/openapi.json")).json()
        assert "/api/v1/sample" in spec["paths"]


async def test_module_switched_off_leaves_no_trace_and_the_rest_works(settings, database):
    app = create_app(dataclasses.replace(settings, modules=()), extra_modules=(sample_module.module,))
    async with _client(app) as client:
        home = await client.get("/")
        assert home.status_code == 200 and 'href="/sample"' not in home.text
        assert (await client.get("/sample")).status_code == 404
        assert (await client.get("/api/v1/sample")).status_code == 404
        assert "/api/v1/sample" not in (await client.get("/schema/openapi.json")).json()["paths"]
        paths = _plain_get_paths(app)
        assert "/" in paths and "/organisations" in paths
        for path in paths:
            response = await client.get(path)
            allowed = (200, 401) if path.startswith("/api/") else (200, 303)  # public reads, or a token asked for
            if path.startswith("/auth/oidc/"):
                allowed = (404,)  # no identity provider configured in this run: sign-in through it is off
            assert response.status_code in allowed, (path, response.status_code)


def test_unknown_module_in_settings_is_a_clear_error(settings):
    with pytest.raises(SettingsError, match="CIVIC_MODULES: unknown module 'nonexistent'"):
        enabled_modules(dataclasses.replace(settings, modules=("nonexistent",)))


async def test_an_id_no_row_can_have_is_not_found_on_every_route(client):
    """Ids are 32-bit on PostgreSQL: a bigger number in a path is "not found", never a 500."""
    for path in ("/ideas/99999999999", "/appeals/receptions/4294967296"):
        response = await client.get(path)
        assert response.status_code == 404, (path, response.status_code)


# --------------------------------------------------------------------------- the manifest as the only channel

ROOT = Path(__file__).resolve().parents[2]


def _variant(slug: str, **changes) -> CivicModule:
    """The sample module under another slug (the core's registries are per process and keyed
    by slug, so each test below has its own)."""
    return dataclasses.replace(sample_module.module, slug=slug, **changes)


async def _organisation() -> int:
    t = uuid.uuid4().hex[:10]
    territory = Territory(kind="district", code=f"m-{t}", path=f"/kz/m-{t}/", name_kk=t, name_ru=t, name_en=t)
    await territory.save()
    organisation = Organisation(territory=territory.id, kind="department", slug=f"m-{t}", name_kk=t, name_ru=t,
                                name_en=f"Department {t}")
    await organisation.save()
    return organisation.id


def _only(settings, *modules: CivicModule):
    return dataclasses.replace(settings, modules=tuple(m.slug for m in modules))


@pytest.mark.parametrize(("changes", "message"), [
    ({"router": lazy("tests.support.sample_module:no_such_router")},
     "module 'wrongref', router: 'tests.support.sample_module:no_such_router' cannot be imported"),
    ({"hooks": Hooks(answer=lazy("tests.support.no_such_file:on_answer"))},
     "module 'wrongref', hooks.answer: 'tests.support.no_such_file:on_answer' cannot be imported"),
    ({"periodic_jobs": (PeriodicJob("tidy", 60, lazy("tests.support.sample_module:untidy")),)},
     r"module 'wrongref', periodic_jobs\['tidy'\]: 'tests.support.sample_module:untidy' cannot be imported"),
    ({"permissions": lazy("tests.support.sample_module:NO_ACTIONS")}, "module 'wrongref', permissions"),
    ({"levels": ("shouting",)}, "module 'wrongref', levels: unknown level 'shouting'"),
    ({"kind_levels": {"sample": ("dialogue",)}}, r"module 'wrongref', kind_levels\['sample'\]: level 'dialogue'"),
    ({"roles": ("curator",)}, "module 'wrongref', roles: expected a tuple of Role"),
    ({"periodic_jobs": (("tidy", 60, sample_module.tidy),)}, "module 'wrongref', periodic_jobs: expected a tuple"),
])
def test_a_wrong_manifest_stops_the_app_at_start_naming_module_and_field(settings, changes, message):
    broken = _variant("wrongref", **changes)
    with pytest.raises(SettingsError, match=message):
        create_app(_only(settings, broken), extra_modules=(broken,))


def test_a_disabled_modules_manifest_is_not_resolved(settings, database):
    broken = _variant("wrongoff", router=lazy("tests.support.sample_module:no_such_router"))
    create_app(dataclasses.replace(settings, modules=()), extra_modules=(broken,))  # no error: not enabled


async def test_a_module_role_becomes_assignable(settings, database, client):
    archive = _variant("archive", roles=(Role("archivist", "Archivist"), Role("official", "Official")))
    person = await make_user(unique_email("archivist"))
    organisation = {"id": await _organisation()}
    assert "archivist" not in assignable_roles()
    with pytest.raises(RuleError):
        await add_membership(person["id"], organisation["id"], "archivist")
    create_app(_only(settings, archive), extra_modules=(archive,))
    assert assignable_roles()["archivist"] == "Archivist"
    assert "archivist" in known_roles()
    await add_membership(person["id"], organisation["id"], "archivist")
    assert await Membership.exists().where((Membership.user == person["id"]) & (Membership.role == "archivist"))
    # the core's own roles stay assignable, and two modules may name the same role
    await add_membership(person["id"], organisation["id"], "official")
    with pytest.raises(RuleError):
        await add_membership(person["id"], organisation["id"], "no_such_role")
    await sign_in(client, person["email"], "correct horse battery")
    profile = (await client.get("/account")).text
    assert "Archivist —" in profile and "Official —" in profile  # labels from the manifest and the core


def test_the_core_keeps_only_its_own_roles():
    assert set(CORE_ROLES) == {"official", "administrator"}
    declared = {role.name for name in available_module_names() for role in load_module(name).roles}
    assert {"moderator", "expert", "organiser"} <= declared  # declared by the modules that use them


async def test_a_modules_periodic_job_is_run_by_the_worker(settings, database):
    chores = _variant("chores")
    modules = build_modules(_only(settings, chores), extra=(chores,))
    sample_module.job_runs.clear()
    schedule = schedule_for(dataclasses.replace(settings, smtp_url=None), modules)
    assert "chores.tidy" in [job.name for job in schedule.jobs]
    results = await run_round(settings, schedule, now=datetime(2026, 11, 24, 9, 0, tzinfo=ALMATY))
    assert sample_module.job_runs == ["tidy"] and results["chores.tidy"] == 1


def test_the_core_modules_and_root_jobs_are_one_type():
    first, last = core_jobs()
    for name in available_module_names():
        assert all(isinstance(job, PeriodicJob) for job in load_module(name).periodic_jobs)
    assert all(isinstance(job, PeriodicJob) for job in first + last)


async def test_hooks_reach_the_responses_only_through_the_manifest(settings, database):
    """Importing a module registers nothing; building the app from its manifest installs its
    answer, forward and close hooks, and the response engine calls them."""
    hooked = _variant("hooked")
    assert responses.module_hooks("hooked") == {"answer": [], "forward": [], "close": []}
    create_app(_only(settings, hooked), extra_modules=(hooked,))
    assert responses.module_hooks("hooked") == {"answer": [hooked.hooks.answer], "forward": [hooked.hooks.forward],
                                                "close": [hooked.hooks.close]}
    assert notify_services.NOTIFICATION_KINDS["sample"] == "Sample things you follow"

    first, second = {"id": await _organisation()}, {"id": await _organisation()}
    official = await make_user(unique_email("hooked-official"))
    for organisation in (first, second):
        await Membership(user=official["id"], organisation=organisation["id"], role="official").save()
    subject = f"hooked:{unique_email('s')}"
    sample_module.heard.clear()
    response = await responses.open_response(subject=subject, subject_kind="hooked.sample", subject_title="A sample",
                                             subject_url="/sample", organisation_id=first["id"])
    await responses.forward(response.id, actor_id=official["id"], to_organisation_id=second["id"], note="Theirs")
    await responses.answer(response.id, actor_id=official["id"], text="Done.")
    await responses.close(response.id, actor_id=official["id"])
    assert sample_module.heard == [("forward", subject), ("answer", subject), ("close", subject)]


def test_no_module_registers_anything_itself():
    """The manifest is the only channel: no file under modules/ fills a core registry."""
    registering = re.compile(r"\b(register_(answer|forward|close)_hook|register_topic|set_module_hooks|"
                             r"install_module_roles)\b")
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "modules").rglob("*.py")
                 if registering.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_every_module_is_covered_by_the_import_contracts():
    """pyproject's import-linter contracts name modules by a wildcard, so a new module is under
    them the day it is added; `make test` runs `lint-imports`."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    contracts = {c["type"]: c for c in config["contracts"]}
    assert contracts["layers"]["layers"] == ["ashyq", "modules", "search", "civic"]
    assert contracts["independence"]["modules"] == ["modules.*"]
    assert "modules.*" in contracts["acyclic_siblings"]["ancestors"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(BIN)/lint-imports" in makefile and "$(MAKE) lint-imports" in makefile
