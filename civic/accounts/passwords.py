"""argon2 password hashing; tests use the cheapest profile so the suite stays fast."""

from functools import lru_cache

import argon2
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10


@lru_cache(maxsize=2)
def hasher(profile: str = "default") -> PasswordHasher:
    if profile == "cheapest":
        return PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)
    return PasswordHasher()


def hash_password(password: str, profile: str = "default") -> str:
    return hasher(profile).hash(password)


def verify_password(password_hash: str | None, password: str, profile: str = "default") -> bool:
    if not password_hash:
        # Same cost as a real check, so timing does not reveal which e-mails exist.
        hasher(profile).hash(password)
        return False
    try:
        return hasher(profile).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
