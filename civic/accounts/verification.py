"""How well a person's identity is known; modules ask for a level per action."""

from enum import IntEnum


class Level(IntEnum):
    UNCONFIRMED = 0
    EMAIL_CONFIRMED = 1
    VERIFIED_RESIDENT = 2  # via OIDC (eGov) claims or confirmed in person by an official


LEVEL_LABELS = {
    Level.UNCONFIRMED: "Unconfirmed",
    Level.EMAIL_CONFIRMED: "E-mail confirmed",
    Level.VERIFIED_RESIDENT: "Verified resident",
}


def meets(user_level: int, required: Level) -> bool:
    return int(user_level) >= int(required)
