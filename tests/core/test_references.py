"""References between modules (civic.references): a record of one module points at a public record
of another by its subject id; the core resolves ids through each module's manifest, in batches,
and never shows what is no longer public."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime, timezone

import pytest

from civic.modules import CivicModule, lazy
from civic.references import services as references
from civic.references.services import Resolved
from civic.references.tables import Reference
from civic.rules import RuleError
from civic.territory.tables import Organisation, Territory
from tests.support.web import make_user, unique_email

SAMPLE_TITLE = "Sample track"


async def _sample_resolve(subject_ids: list[str]) -> dict[str, Resolved]:
    """A throw-away module whose records "sample:<n>" are public when n is even."""
    return {s: Resolved(subject=s, module="sample", kind="track", title=f"{SAMPLE_TITLE} {s}", url=f"/sample/{s[7:]}",
                        status="open", level="partnership")
            for s in subject_ids if s[7:].isdigit() and int(s[7:]) % 2 == 0}


SAMPLE = CivicModule(slug="sample", title="Sample mechanism", levels=("partnership",),
                     resolve_references=_sample_resolve)
# The four modules as their manifests will declare them (the lazy strings are the manifests' lines).
MANIFESTS = (
    CivicModule(slug="ideas", title="Ideas", resolve_references=lazy("modules.ideas.references:resolve")),
    CivicModule(slug="petitions", title="Petitions", resolve_references=lazy("modules.petitions.references:resolve")),
    CivicModule(slug="appeals", title="Appeals", resolve_references=lazy("modules.appeals.references:resolve")),
    CivicModule(slug="delphi", title="Delphi studies", resolve_references=lazy("modules.delphi.references:resolve")),
)


@pytest.fixture
def registry():
    """The sample module and the four modules installed; what was installed before comes back."""
    saved, titles = dict(references._resolvers), dict(references._module_titles)
    references.install([SAMPLE, *MANIFESTS])
    yield
    references._resolvers.clear()
    references._resolvers.update(saved)
    references._module_titles.clear()
    references._module_titles.update(titles)


@pytest.fixture
async def place(database):
    tag = uuid.uuid4().hex[:8]
    city = Territory(kind="city", code=f"r{tag}", path=f"/kz/r{tag}/", name_kk="Қала", name_ru="Город",
                     name_en=f"City {tag}")
    await city.save()
    akimat = Organisation(territory=city.id, kind="akimat", slug=f"ref-{tag}", name_kk="Әкімдік",
                          name_ru="Акимат", name_en=f"Akimat {tag}")
    await akimat.save()
    author = await make_user(unique_email("refs"), name=f"Author {tag}")
    return {"tag": tag, "city": city, "akimat": akimat, "author": author}


async def new_idea(place, title: str, visibility: str = "visible", status: str = "published") -> int:
    from modules.ideas.tables import Idea

    idea = Idea(title=title, body="A bench by the river.", category="roads", territory=place["city"].id,
                organisation=place["akimat"].id, author=place["author"]["id"], visibility=visibility, status=status)
    await idea.save()
    return idea.id


async def new_challenge(place, title: str, visibility: str = "visible") -> int:
    from modules.ideas.tables import Challenge

    challenge = Challenge(organisation=place["akimat"].id, territory=place["city"].id, title=title, problem="Traffic",
                          success_criteria="Fewer jams", deadline=date(2027, 1, 1), level="partnership",
                          visibility=visibility)
    await challenge.save()
    return challenge.id


async def new_petition(place, title: str, listed: bool) -> tuple[int, str]:
    from modules.petitions.tables import Petition

    key = uuid.uuid4().hex[:12]
    now = datetime.now(timezone.utc)
    petition = Petition(key=key, title=title, ask="Ask", reasons="Reasons", territory=place["city"].id,
                        organisation=place["akimat"].id, author=place["author"]["id"], state="open", opened_at=now,
                        listed_at=now if listed else None)
    await petition.save()
    return petition.id, key


async def new_appeal(place, title: str, published: bool) -> tuple[int, str]:
    from modules.appeals.tables import Appeal

    number = f"REF-{uuid.uuid4().hex[:10]}"
    appeal = Appeal(number=number, kind="request", category="roads", title=f"Private {title}", body="My own words",
                    territory=place["city"].id, organisation=place["akimat"].id, channel="online",
                    citizen=place["author"]["id"], received_on=date(2026, 12, 1), publish_consent=True,
                    public_title=title, public_body="Redacted",
                    published_at=datetime.now(timezone.utc) if published else None)
    await appeal.save()
    return appeal.id, number


async def new_study(place, title: str, published: bool) -> tuple[int, str]:
    from modules.delphi.tables import Study

    key = uuid.uuid4().hex[:12]
    study = Study(key=key, organisation=place["akimat"].id, title=title, state="finished",
                  published_at=datetime.now(timezone.utc) if published else None)
    await study.save()
    return study.id, key


async def _count(where) -> int:
    return await Reference.count().where(where)


@pytest.fixture
def queries(database, monkeypatch):
    """How many SQL statements run (every Piccolo query passes through run_querystring)."""
    seen: list[str] = []
    engine_class = type(database)  # PostgresEngine has __slots__: patch its class
    original = engine_class.run_querystring

    async def counting(self, querystring, *args, **kwargs):
        seen.append(str(querystring))
        return await original(self, querystring, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counting)
    return seen


def render(macro: str, entries, language: str = "en") -> str:
    from civic.i18n import runtime as i18n
    from civic.web.templates import build_environment

    i18n.set_language(language)
    template = build_environment().from_string(
        '{% from "components/references.html" import linked_records, referred_to_by %}{{ ' + macro + "(entries) }}")
    return template.render(entries=entries)


async def test_a_sample_record_links_an_idea_and_the_idea_shows_what_points_at_it(registry, place):
    idea_id = await new_idea(place, f"Benches {place['tag']}")
    source = f"sample:{2 * (uuid.uuid4().int % 10**6)}"
    row = await references.link(source, f"ideas:{idea_id}", "source", place["author"]["id"])
    assert row["from_subject"] == source and row["to_subject"] == f"ideas:{idea_id}"
    assert row["relation"] == "source" and row["created_by"] == place["author"]["id"]

    again = await references.link(source, f"ideas:{idea_id}", "source", place["author"]["id"])  # once only
    assert again["id"] == row["id"]

    (linked,) = await references.references_from(source)
    assert linked.relation == "source"
    assert linked.record == Resolved(subject=f"ideas:{idea_id}", module="ideas", kind="idea",
                                     title=f"Benches {place['tag']}", url=f"/ideas/{idea_id}",
                                     status="published", level="consult")
    (pointing,) = await references.references_to(f"ideas:{idea_id}")
    assert pointing.record.title == f"{SAMPLE_TITLE} {source}" and pointing.record.url.startswith("/sample/")
    assert pointing.module_title == "Sample mechanism"

    html = render("referred_to_by", [pointing])
    assert "Referred to by" in html and f'href="{pointing.record.url}"' in html
    assert "Sample mechanism" in html and "Partnership" in html and "Open" in html
    html = render("linked_records", [linked])
    assert "Linked records" in html and f"Benches {place['tag']}" in html and "Consultation" in html
    assert "Связанные записи" in render("linked_records", [linked], "ru")

    assert await references.unlink(source, f"ideas:{idea_id}", "source") == 1
    assert await references.references_from(source) == []
    assert await references.references_to(f"ideas:{idea_id}") == []


async def test_each_module_resolves_title_url_status_and_level_of_its_public_records(registry, place):
    tag = place["tag"]
    idea_id = await new_idea(place, f"Ұсыныс {tag}", status="under_review")
    challenge_id = await new_challenge(place, f"Сынақ {tag}")
    petition_id, petition_key = await new_petition(place, f"Петиция {tag}", listed=True)
    appeal_id, number = await new_appeal(place, f"Обращение {tag}", published=True)
    study_id, study_key = await new_study(place, f"Зерттеу {tag}", published=True)

    found = await references.resolve([f"ideas:{idea_id}", f"ideas:challenge-{challenge_id}",
                                      f"petitions:{petition_id}", f"appeals:{appeal_id}", f"delphi:{study_id}"])
    assert all(r.available for r in found.values())
    idea = found[f"ideas:{idea_id}"]
    assert (idea.module, idea.kind, idea.title, idea.url, idea.status, idea.level) == (
        "ideas", "idea", f"Ұсыныс {tag}", f"/ideas/{idea_id}", "under_review", "consult")
    assert idea.status_msgid == "Under review" and idea.level_msgid == "Consultation"
    challenge = found[f"ideas:challenge-{challenge_id}"]
    assert (challenge.kind, challenge.title, challenge.url, challenge.status, challenge.level) == (
        "challenge", f"Сынақ {tag}", f"/ideas/challenges/{challenge_id}", "open", "partnership")
    petition = found[f"petitions:{petition_id}"]
    assert (petition.kind, petition.title, petition.url, petition.status, petition.level) == (
        "petition", f"Петиция {tag}", f"/petitions/{petition_key}", "open", "dialogue")
    appeal = found[f"appeals:{appeal_id}"]
    assert (appeal.kind, appeal.title, appeal.url, appeal.status, appeal.level) == (
        "appeal", f"Обращение {tag}", f"/appeals/{number}", "open", "dialogue")
    study = found[f"delphi:{study_id}"]
    assert (study.kind, study.title, study.url, study.status, study.level) == (
        "study", f"Зерттеу {tag}", f"/delphi/{study_key}/results", "published", "consult")


async def test_what_is_not_public_is_unavailable_and_its_title_never_shows(registry, place):
    from modules.ideas.tables import Idea

    tag = place["tag"]
    hidden = await new_idea(place, f"Hidden idea {tag}", visibility="hidden")
    pending = await new_idea(place, f"Pending idea {tag}", visibility="pending")
    challenge = await new_challenge(place, f"Hidden challenge {tag}", visibility="hidden")
    petition, _ = await new_petition(place, f"Link-only petition {tag}", listed=False)
    appeal, _ = await new_appeal(place, f"Unpublished appeal {tag}", published=False)
    study, _ = await new_study(place, f"Unpublished study {tag}", published=False)
    subjects = [f"ideas:{hidden}", f"ideas:{pending}", f"ideas:challenge-{challenge}", f"petitions:{petition}",
                f"appeals:{appeal}", f"delphi:{study}", "ideas:999999999999", "ideas:nonsense", "elsewhere:1",
                "sample:3"]
    found = await references.resolve(subjects)
    assert list(found) == subjects
    for subject, record in found.items():
        assert record == Resolved.unavailable(subject) and not record.available
        assert record.title == "" and record.url == ""

    # A link made while the idea was public: hiding it later leaves only "a record that is no longer public".
    visible = await new_idea(place, f"Soon hidden {tag}")
    await references.link("sample:2", f"ideas:{visible}", "discusses", None)
    await Idea.update({Idea.visibility: "hidden"}).where(Idea.id == visible)
    entries = [e for e in await references.references_from("sample:2") if e.record.subject == f"ideas:{visible}"]
    assert len(entries) == 1 and not entries[0].record.available
    html = render("linked_records", entries)
    assert "a record that is no longer public" in html
    assert f"Soon hidden {tag}" not in html and f"/ideas/{visible}" not in html
    assert "енді жария емес жазба" in render("linked_records", entries, "kk")
    await references.unlink("sample:2", f"ideas:{visible}")


async def test_a_refused_link_changes_nothing(registry, place):
    tag = place["tag"]
    hidden = await new_idea(place, f"Hidden {tag}", visibility="hidden")
    public = await new_idea(place, f"Public {tag}")
    source = f"sample:{tag}"
    before = await Reference.count()
    refusals = [
        (source, f"ideas:{hidden}", "source", "Only a public record can be referred to."),
        (source, "ideas:999999999", "source", "Only a public record can be referred to."),
        (source, "nomodule:1", "source", "Only a public record can be referred to."),
        (f"ideas:{public}", f"ideas:{public}", "source", "A record cannot refer to itself."),
        (source, f"ideas:{public}", "Source!", "This kind of reference is not known."),
        ("no subject", f"ideas:{public}", "source", "This is not a record that can be referred to."),
        (source, "", "source", "This is not a record that can be referred to."),
    ]
    for from_subject, to_subject, relation, msgid in refusals:
        with pytest.raises(RuleError) as refused:
            await references.link(from_subject, to_subject, relation, place["author"]["id"])
        assert refused.value.msgid == msgid and refused.value.status_code == 400
    assert await Reference.count() == before
    assert await references.references_from(source) == []
    assert await references.references_to(f"ideas:{hidden}") == []


async def test_resolution_is_batched_one_query_per_kind_however_many_ids(registry, place, queries):
    tag = place["tag"]
    ideas = [await new_idea(place, f"Many {tag} {i}", visibility="hidden" if i % 5 == 0 else "visible")
             for i in range(25)]
    challenges = [await new_challenge(place, f"Many challenge {tag} {i}") for i in range(4)]
    petitions = [(await new_petition(place, f"Many petition {tag} {i}", listed=True))[0] for i in range(4)]
    studies = [(await new_study(place, f"Many study {tag} {i}", published=True))[0] for i in range(3)]
    subjects = ([f"ideas:{i}" for i in ideas] + [f"ideas:challenge-{c}" for c in challenges]
                + [f"petitions:{p}" for p in petitions] + [f"delphi:{s}" for s in studies]
                + [f"sample:{n}" for n in range(10)])

    queries.clear()
    found = await references.resolve(subjects)
    assert len(queries) == 4, queries  # ideas, challenges, petitions, studies; the sample module runs none
    assert sum(r.available for r in found.values()) == 20 + 4 + 4 + 3 + 5

    for subject in subjects[:-10]:
        if found[subject].available:
            await references.link(f"sample:{tag}", subject, "source", None)
    queries.clear()
    entries = await references.references_from(f"sample:{tag}")
    assert len(entries) == 20 + 4 + 4 + 3
    assert len(queries) == 1 + 4, queries  # the links, then one query per kind


async def test_the_app_installs_the_resolvers_of_the_enabled_modules(registry, settings, database):
    from ashyq.app import create_app

    create_app(dataclasses.replace(settings, modules=("sample",)), extra_modules=(SAMPLE,))
    assert list(references.installed()) == ["sample"]
    assert (await references.resolve(["sample:4"]))["sample:4"].available
    assert not (await references.resolve(["ideas:1"]))["ideas:1"].available  # ideas switched off
