"""The JSON API of Delphi studies under /api/v1/delphi: the aggregates of published studies.

Only published studies are listed and read, and only their aggregates (median, quartiles,
IQR, response counts, consensus state per round): never an individual answer or justification.
"""

from __future__ import annotations

from datetime import date, datetime

from litestar import Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from modules.delphi import services
from modules.delphi.tables import Study

TAGS = ["delphi"]


def _plain(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _summary(summary) -> dict:
    if summary.withheld:
        return {"answers": summary.n, "withheld": True}
    if summary.kind == "text":
        return {"answers": summary.n}
    if summary.kind == "ranking":
        return {"answers": summary.n, "mean_ranks": summary.mean_ranks, "order": summary.order,
                "kendall_w": summary.kendall_w}
    return {"answers": summary.n, "median": summary.median, "q1": summary.q1, "q3": summary.q3, "iqr": summary.iqr,
            "within_band": summary.within_band,
            "histogram": [{"label": b["label"], "count": b["count"]} for b in summary.histogram]}


@get("/api/v1/delphi", tags=TAGS, summary="List published Delphi studies")
async def list_studies() -> dict:
    rows = await Study.select(Study.key, Study.title, Study.kind, Study.lang, Study.published_at).where(
        Study.published_at.is_not_null()).order_by(Study.published_at, ascending=False)
    return {"studies": [{**{k: _plain(v) for k, v in r.items()}, "url": f"/delphi/{r['key']}/results"}
                        for r in rows]}


@get("/api/v1/delphi/{key:str}", tags=TAGS, summary="The aggregated results of a published study")
async def read_study(key: FromPath[str]) -> dict:
    study = await services.get_study(key)
    if study is None or study["published_at"] is None:
        raise NotFoundException()
    results = await services.study_results(None, study, with_justifications=False)
    return {
        "key": study["key"], "title": study["title"], "purpose": study["purpose"], "kind": study["kind"],
        "horizon_year": study["horizon_year"], "conclusion": study["conclusion"],
        "quartile_method": "inclusive (type 7 linear interpolation)",
        "rounds": [{"number": r["number"], "panel": r["panel"], "answered": r["submitted"]} for r in results["rates"]],
        "questions": [{"code": e["question"]["code"], "kind": e["question"]["kind"], "text": e["text"],
                       "unit": e["question"]["unit"], "options": e["question"]["options"], "state": e["state"],
                       "rounds": [{"number": r["number"], "state": r["state"], **_summary(r["summary"])}
                                  for r in e["rounds"]]} for e in results["questions"]],
        "roadmap": [{"code": r["question"]["code"], "text": r["text"], "year": r["year"], "state": r["state"]}
                    for r in results["roadmap"]],
    }


def router() -> Router:
    return Router(path="/", route_handlers=[list_studies, read_study])
