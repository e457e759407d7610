"""The openness dashboard: which participation levels the enabled mechanisms offer, and how the
akimat answers people (from the response engine)."""

from __future__ import annotations

from civic.engagement.levels import LEVELS
from civic.modules import CivicModule


async def openness_summary(modules: list[CivicModule]) -> dict:
    from civic.responses.tables import OfficialResponse, ResponseState

    by_level = {level: [m for m in modules if level in m.levels] for level in LEVELS}
    answered = await OfficialResponse.count().where(OfficialResponse.state.is_in([ResponseState.ANSWERED,
                                                                                  ResponseState.CLOSED]))
    open_count = await OfficialResponse.count().where(OfficialResponse.state.is_in(list(ResponseState.OPEN)))
    return {"by_level": by_level, "answered": answered, "open": open_count}
