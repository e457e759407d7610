"""Accounts: registration, sign-in, password reset, profile, export and deletion, roles,
API tokens, the audit log and database-backed rate limits."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from civic.accounts import tokens
from civic.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from civic.accounts.roles import assignable_roles
from civic.accounts.tables import ApiToken, AuditEntry, Membership, RateLimitHit, Role, User
from civic.accounts.verification import Level
from civic.clock import now_utc
from civic.db import is_unique_violation
from civic.i18n.runtime import LANGUAGES, N_, translator
from civic.notify.services import notify, queue_mail
from civic.notify.tables import Notification, NotificationPreference
from civic.participation import people as participation_people
from civic.permissions import organisations_where
from civic.rules import RuleError
from civic.runtime import transaction
from civic.settings import Settings
from civic.territory.tables import Territory

if TYPE_CHECKING:
    from civic.modules import CivicModule

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONFIRM_MAX_AGE = 3 * 24 * 3600
RESET_MAX_AGE = 2 * 3600


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def user_by_email(email: str) -> dict | None:
    return await User.select().where(User.email == normalise_email(email)).first()


async def user_by_id(user_id: int) -> dict | None:
    return await User.select().where(User.id == user_id).first()


# --- rate limits -----------------------------------------------------------------------------

async def over_rate_limit(settings: Settings, bucket: str, limit: int, window: timedelta, *,
                          record: bool = True) -> bool:
    """Say whether `bucket` already has `limit` hits within `window`; if not, and `record`,
    count this one. Kept in the database so every app process shares the count."""
    if not settings.rate_limits:
        return False
    since = now_utc() - window
    recent = await RateLimitHit.count().where((RateLimitHit.bucket == bucket) & (RateLimitHit.created_at > since))
    if recent >= limit:
        return True
    if record:
        await record_rate_limit_hit(bucket)
    return False


async def record_rate_limit_hit(bucket: str) -> None:
    await RateLimitHit.insert(RateLimitHit(bucket=bucket, created_at=now_utc()))


# --- registration and sign-in -------------------------------------------------------------------

def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RuleError("The password must be at least %(min)s characters long.", "password", min=MIN_PASSWORD_LENGTH)


async def register(settings: Settings, *, email: str, display_name: str, password: str, language: str,
                   next_path: str = "") -> dict | None:
    """Create an unconfirmed account and queue the confirmation link (leading on to
    ``next_path``, a local path, when given).

    An e-mail already registered gets a "you already have an account" mail instead, and the
    caller shows the same page either way, so the form does not reveal who is registered."""
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise RuleError("Enter a valid e-mail address.", "email")
    display_name = display_name.strip()
    if not 2 <= len(display_name) <= 120:
        raise RuleError("Enter your name (2 to 120 characters).", "display_name")
    _check_password(password)
    language = language if language in LANGUAGES else "kk"
    t = translator(language).gettext
    password_hash = hash_password(password, settings.password_hash_profile)
    async with transaction():
        existing = await user_by_email(email)
        if existing:
            await queue_mail(email, t("Your Ashyq account"),
                             t("Someone tried to register with this address. You already have an account: "
                               "sign in or reset your password at %(url)s") % {"url": f"{settings.base_url}/auth/reset"})
            return None
        user = User(email=email, display_name=display_name, password_hash=password_hash, language=language,
                    verification=int(Level.UNCONFIRMED), created_at=now_utc())
        await user.save()
        token = tokens.make_token(settings.secret_key, "confirm", user.id)
        url = f"{settings.base_url}/auth/confirm/{token}"
        if next_path.startswith("/") and not next_path.startswith("//"):
            url += "?" + urlencode({"next": next_path})
        await queue_mail(email, t("Confirm your e-mail for Ashyq"),
                         t("Open this link to confirm your e-mail address: %(url)s") % {"url": url})
    return await user_by_id(user.id)


async def confirm_email(settings: Settings, token: str) -> dict | None:
    user_id = tokens.read_token(settings.secret_key, "confirm", token, CONFIRM_MAX_AGE)
    if user_id is None:
        return None
    user = await user_by_id(user_id)
    if not user or user["deleted_at"]:
        return None
    if user["verification"] < Level.EMAIL_CONFIRMED:
        await User.update({User.verification: int(Level.EMAIL_CONFIRMED)}).where(User.id == user_id)
    return await user_by_id(user_id)


async def authenticate(settings: Settings, email: str, password: str) -> dict | None:
    user = await user_by_email(email)
    ok = verify_password(user["password_hash"] if user else None, password, settings.password_hash_profile)
    if not ok or not user or user["deleted_at"] or user["blocked_reason"]:
        return None
    await User.update({User.last_login_at: now_utc()}).where(User.id == user["id"])
    return user


async def request_password_reset(settings: Settings, email: str) -> None:
    """Queue a reset link if the address has an account; say nothing either way."""
    user = await user_by_email(email)
    if not user or user["deleted_at"]:
        return
    t = translator(user["language"]).gettext
    token = tokens.make_token(settings.secret_key, "reset", user["id"], binding=user["password_hash"] or "")
    async with transaction():
        await queue_mail(user["email"], t("Reset your Ashyq password"),
                         t("Open this link within two hours to choose a new password: %(url)s")
                         % {"url": f"{settings.base_url}/auth/reset/{token}"})


async def user_for_reset_token(settings: Settings, token: str) -> dict | None:
    user_id = tokens.peek_user_id(token)
    user = await user_by_id(user_id) if user_id else None
    if not user or user["deleted_at"]:
        return None
    valid = tokens.read_token(settings.secret_key, "reset", token, RESET_MAX_AGE, binding=user["password_hash"] or "")
    return user if valid == user["id"] else None


async def reset_password(settings: Settings, token: str, password: str) -> dict | None:
    user = await user_for_reset_token(settings, token)
    if not user:
        return None
    _check_password(password)
    # A reset proves the mailbox, and signs the person out of every other device.
    await User.update({
        User.password_hash: hash_password(password, settings.password_hash_profile),
        User.session_epoch: user["session_epoch"] + 1,
        User.verification: max(user["verification"], int(Level.EMAIL_CONFIRMED)),
    }).where(User.id == user["id"])
    return await user_by_id(user["id"])


# --- OpenID Connect -----------------------------------------------------------------------------

def _claim_is_true(value: object) -> bool:
    """`email_verified` is a JSON boolean, but some providers send the string "true"/"false"."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


async def login_with_oidc(claims: dict, territory_code_claim: str = "residence", language: str = "kk") -> dict:
    """First login creates or links the account by verified e-mail; a territory claim marks
    the person a verified resident of that territory. A refusal (RuleError) changes nothing.

    Two first sign-ins of one person at once (two tabs, a double click) both find no account;
    the second to create it meets the unique index and, run again, finds the first's."""
    try:
        return await _login_with_oidc(claims, territory_code_claim, language)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        return await _login_with_oidc(claims, territory_code_claim, language)


async def _login_with_oidc(claims: dict, territory_code_claim: str, language: str) -> dict:
    subject = str(claims.get("sub") or "")[:255]
    email = normalise_email(str(claims.get("email") or ""))
    if not subject:
        raise RuleError(N_("The identity provider did not say who you are."))
    async with transaction():
        user = await User.select().where(User.oidc_subject == subject).first()
        if user is None:
            if not email or not EMAIL_RE.match(email) or len(email) > 254:
                raise RuleError(N_("The identity provider did not give your e-mail address, so no account "
                                      "can be found or created for you."))
            if not _claim_is_true(claims.get("email_verified")):
                # Linking by an address nobody proved would hand its account to whoever typed it.
                raise RuleError(N_("Your e-mail address is not confirmed by the identity provider, so it cannot "
                                      "be linked to an account. Confirm it there, or sign in with your password."))
            user = await user_by_email(email)
            if user is None:
                name = " ".join(str(claims.get("name") or "").split())[:120]
                created = User(email=email, display_name=name if len(name) >= 2 else email.split("@")[0][:120],
                               password_hash=None, language=language if language in LANGUAGES else "kk",
                               oidc_subject=subject, verification=int(Level.EMAIL_CONFIRMED), created_at=now_utc())
                await created.save()
                user = await user_by_id(created.id)
            elif user["oidc_subject"] and user["oidc_subject"] != subject:
                raise RuleError(N_("This e-mail address already belongs to an account linked to another "
                                      "identity at the provider. Sign in with that identity or with your password."))
            elif not (user["deleted_at"] or user["blocked_reason"]):
                await User.update({User.oidc_subject: subject}).where(User.id == user["id"])
        if user["deleted_at"] or user["blocked_reason"]:
            raise RuleError(N_("This account cannot sign in."))
        changes = {User.last_login_at: now_utc()}
        if user["verification"] < Level.EMAIL_CONFIRMED:
            changes[User.verification] = int(Level.EMAIL_CONFIRMED)
        code = claims.get(territory_code_claim)
        if code:
            territory = await Territory.select(Territory.id).where(Territory.code == str(code)).first()
            if territory:
                changes.update({User.verification: int(Level.VERIFIED_RESIDENT),
                                User.verified_territory: territory["id"], User.verified_by: "oidc",
                                User.residence: territory["id"]})
        await User.update(changes).where(User.id == user["id"])
    return await user_by_id(user["id"])


# --- profile, export, deletion ------------------------------------------------------------------

async def update_profile(user_id: int, *, display_name: str, language: str, residence_id: int | None) -> None:
    display_name = display_name.strip()
    if not 2 <= len(display_name) <= 120:
        raise RuleError("Enter your name (2 to 120 characters).", "display_name")
    if language not in LANGUAGES:
        raise RuleError("Choose one of the offered languages.", "language")
    if residence_id is not None and not await Territory.exists().where(Territory.id == residence_id):
        raise RuleError("Choose a territory from the list.", "residence")
    await User.update({User.display_name: display_name, User.language: language,
                       User.residence: residence_id}).where(User.id == user_id)


async def change_password(settings: Settings, user_id: int, current: str, new: str) -> None:
    user = await user_by_id(user_id)
    if user["password_hash"] and not verify_password(user["password_hash"], current, settings.password_hash_profile):
        raise RuleError("The current password is not correct.", "current_password")
    _check_password(new)
    await User.update({User.password_hash: hash_password(new, settings.password_hash_profile),
                       User.session_epoch: user["session_epoch"] + 1}).where(User.id == user_id)


async def export_personal_data(user_id: int) -> dict:
    """Everything Ashyq holds about a person, as they can download it."""
    user = await user_by_id(user_id)
    memberships = await Membership.select(Membership.organisation.slug, Membership.role, Membership.created_at).where(
        Membership.user == user_id)
    notifications = await Notification.select(Notification.kind, Notification.title, Notification.created_at).where(
        Notification.user == user_id)
    api_tokens = await ApiToken.select(ApiToken.name, ApiToken.created_at, ApiToken.revoked_at).where(ApiToken.user == user_id)

    def plain(row: dict) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}

    profile = {k: user[k] for k in ("email", "display_name", "language", "residence", "verification",
                                    "verified_by", "created_at", "last_login_at")}
    return {"profile": plain(profile), "memberships": [plain(m) for m in memberships],
            "notifications": [plain(n) for n in notifications], "api_tokens": [plain(t) for t in api_tokens],
            "participation": await participation_people.personal_data(user_id)}


async def delete_account(settings: Settings, user_id: int, password: str | None,
                         modules: Iterable[CivicModule] = ()) -> None:
    """Remove personal data, the modules' copies included (CivicModule.forget_person); what the
    person wrote stays, under an anonymous name. All of it or nothing."""
    user = await user_by_id(user_id)
    if user["password_hash"] and not verify_password(user["password_hash"], password or "", settings.password_hash_profile):
        raise RuleError("The password is not correct.", "password")
    async with transaction():
        await participation_people.forget_person(user_id)
        for module in modules:
            if module.forget_person is not None:
                await module.forget_person(user_id)
        await User.update({
            User.email: f"deleted-{user_id}-{secrets.token_hex(6)}@invalid",
            User.display_name: "—",
            User.password_hash: None,
            User.oidc_subject: None,
            User.residence: None,
            User.verified_territory: None,
            User.deleted_at: now_utc(),
            User.session_epoch: user["session_epoch"] + 1,
        }).where(User.id == user_id)
        await ApiToken.delete().where(ApiToken.user == user_id)
        await Membership.delete().where(Membership.user == user_id)
        await Notification.delete().where(Notification.user == user_id)
        await NotificationPreference.delete().where(NotificationPreference.user == user_id)


# --- roles, audit, API tokens -------------------------------------------------------------------

async def memberships_of(user_id: int) -> list[dict]:
    return await Membership.select(Membership.id, Membership.organisation, Membership.role,
                                   Membership.organisation.slug.as_alias("organisation_slug"),
                                   Membership.organisation.name_kk.as_alias("organisation_name_kk"),
                                   Membership.organisation.name_ru.as_alias("organisation_name_ru"),
                                   Membership.organisation.name_en.as_alias("organisation_name_en")).where(
        Membership.user == user_id)


async def add_membership(user_id: int, organisation_id: int, role: str) -> None:
    """Give a role in an organisation: one of the core's roles or an enabled module's
    (civic.accounts.roles.assignable_roles)."""
    if role not in assignable_roles():
        raise RuleError("Unknown role.", "role")
    exists = await Membership.exists().where((Membership.user == user_id) & (Membership.organisation == organisation_id)
                                             & (Membership.role == role))
    if not exists:
        await Membership.insert(Membership(user=user_id, organisation=organisation_id, role=role, created_at=now_utc()))


async def audit(actor_id: int | None, action: str, *, organisation_id: int | None = None, subject: str = "",
                details: dict | None = None) -> None:
    await AuditEntry.insert(AuditEntry(actor=actor_id, organisation=organisation_id, action=action, subject=subject,
                                       details=details or {}, created_at=now_utc()))


async def territories_confirmable_by(official: dict) -> list[dict]:
    """Territories where this person may confirm residents in person: those of the
    organisations where they are an official or administrator, and everything below them."""
    rows = await Membership.select(Membership.organisation.territory.path.as_alias("path")).where(
        (Membership.user == official["id"]) & Membership.role.is_in([Role.OFFICIAL, Role.ADMINISTRATOR]))
    prefixes = sorted({r["path"] for r in rows if r["path"]})
    if official.get("is_admin"):
        prefixes = ["/"]
    if not prefixes:
        return []
    territories = await Territory.select().order_by(Territory.path)
    return [t for t in territories if any(t["path"].startswith(prefix) for prefix in prefixes)]


async def confirm_resident_in_person(official: dict, email: str, territory_id: int | None) -> dict:
    """An official who has seen the person's identity document confirms their residence: the
    person becomes a verified resident of the territory. Audited; the person is told."""
    allowed = {t["id"]: t for t in await territories_confirmable_by(official)}
    if not allowed:
        raise RuleError("Only officials of an akimat may confirm residents.", "__all__")
    if territory_id not in allowed:
        raise RuleError("Choose a territory your organisation serves.", "territory")
    person = await user_by_email(normalise_email(email))
    if person is None or person["deleted_at"]:
        raise RuleError("No account uses this e-mail address.", "email")
    territory = allowed[territory_id]
    async with transaction():
        await User.update({User.verification: int(Level.VERIFIED_RESIDENT), User.verified_territory: territory_id,
                           User.verified_by: "official", User.residence: territory_id}).where(User.id == person["id"])
        await audit(official["id"], "accounts.verify_resident", subject=f"users:{person['id']}",
                    details={"territory": territory["code"]})
        t = translator(person["language"] or "kk")
        await notify(person["id"], "account.verified",
                     t.gettext("You are now a verified resident"),
                     t.gettext("An official confirmed that you live in %(territory)s. You can now sign petitions "
                               "and vote where residence is required.") % {
                         "territory": territory.get(f"name_{person['language']}") or territory["name_kk"]},
                     "/account")
    return await user_by_id(person["id"])


async def audit_entries(viewer: dict, limit: int = 200) -> list[dict]:
    """The audit log as a viewer may read it: everything for platform administrators, their
    organisations' entries for organisation administrators."""
    query = AuditEntry.select(AuditEntry.all_columns(), AuditEntry.actor.display_name.as_alias("actor_name"),
                              AuditEntry.organisation.slug.as_alias("organisation_slug"))
    if not viewer.get("is_admin"):
        organisation_ids = await organisations_where(viewer, (Role.ADMINISTRATOR,))
        if not organisation_ids:
            return []
        query = query.where(AuditEntry.organisation.is_in(organisation_ids))
    return await query.order_by(AuditEntry.id, ascending=False).limit(limit)


async def create_api_token(user_id: int, name: str) -> str:
    name = name.strip()[:100] or "API"
    token = "ashyq_" + secrets.token_urlsafe(32)
    await ApiToken.insert(ApiToken(user=user_id, name=name, token_hash=tokens.hash_api_token(token), created_at=now_utc()))
    return token


TOKEN_USE_RESOLUTION = timedelta(minutes=1)


async def user_for_api_token(token: str) -> dict | None:
    row = await ApiToken.select(ApiToken.id, ApiToken.user, ApiToken.last_used_at).where(
        (ApiToken.token_hash == tokens.hash_api_token(token)) & ApiToken.revoked_at.is_null()).first()
    if not row:
        return None
    user = await user_by_id(row["user"])
    if not user or user["deleted_at"] or user["blocked_reason"]:
        return None
    moment = now_utc()
    last_used = row["last_used_at"]
    if last_used is not None and last_used.tzinfo is None:
        last_used = last_used.replace(tzinfo=moment.tzinfo)
    if last_used is None or moment - last_used >= TOKEN_USE_RESOLUTION:
        # "last used" to the minute is all a person needs; a write per API call is not
        await ApiToken.update({ApiToken.last_used_at: moment}).where(ApiToken.id == row["id"])
    return user


async def revoke_api_token(user_id: int, token_id: int) -> None:
    await ApiToken.update({ApiToken.revoked_at: now_utc()}).where((ApiToken.id == token_id) & (ApiToken.user == user_id))


async def make_admin(settings: Settings, *, email: str, display_name: str, password: str) -> bool:
    """Create a confirmed platform administrator, or promote an existing account.
    Returns True when a new account was created."""
    email = normalise_email(email)
    if not EMAIL_RE.match(email):
        raise ValueError(f"not a valid e-mail address: {email}")
    async with transaction():
        existing = await user_by_email(email)
        if existing:
            await User.update({User.is_admin: True}).where(User.id == existing["id"])
            await audit(None, "account.make_admin", subject=f"user:{existing['id']}")
            return False
        _check_password(password)
        user = User(email=email, display_name=display_name, language="kk", is_admin=True,
                    password_hash=hash_password(password, settings.password_hash_profile),
                    verification=int(Level.EMAIL_CONFIRMED), created_at=now_utc())
        await user.save()
        await audit(None, "account.make_admin", subject=f"user:{user.id}")
        return True
