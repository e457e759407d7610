"""THE user model, memberships, API tokens, the audit log and rate-limit hits."""

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from civic.territory.tables import Organisation, Territory


class User(Table, tablename="civic_user"):
    email = Varchar(length=254, unique=True)
    display_name = Varchar(length=120)
    password_hash = Varchar(length=200, null=True, default=None)  # None: signs in only through OIDC
    language = Varchar(length=5, default="kk")
    residence = ForeignKey(Territory, null=True)
    verification = Integer(default=0)  # civic.accounts.verification.Level
    verified_territory = ForeignKey(Territory, null=True)
    verified_by = Varchar(length=20, default="")  # "oidc" or "official"
    oidc_subject = Varchar(length=255, null=True, default=None, unique=True)
    is_admin = Boolean(default=False)
    blocked_reason = Text(null=True, default=None)
    session_epoch = Integer(default=0)  # bumped to sign the person out everywhere
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)


class Role:
    """Role names. The core's own are OFFICIAL and ADMINISTRATOR (CORE); every other role is
    declared by the module that uses it (CivicModule.roles) or reserved for a mechanism still to
    come; which roles exist and may be given is civic.accounts.roles. The other names below are
    spellings only, kept so that code and demo data naming them read the same."""

    OFFICIAL = "official"
    ADMINISTRATOR = "administrator"
    CORE = (OFFICIAL, ADMINISTRATOR)
    # declared by modules (moderator: ideas, petitions; expert, organiser: delphi) or reserved
    MODERATOR = "moderator"
    EXPERT = "expert"
    ORGANISER = "organiser"
    CONSULTANT = "consultant"
    COUNCIL_MEMBER = "council_member"
    JURY = "jury"
    MENTOR = "mentor"


class Membership(Table, tablename="civic_membership"):
    user = ForeignKey(User)
    organisation = ForeignKey(Organisation)
    role = Varchar(length=30)
    created_at = Timestamptz(default=TimestamptzNow())
    # one role once: unique index civic_membership_one_role_once (see the migration)


class ApiToken(Table, tablename="civic_api_token"):
    user = ForeignKey(User)
    name = Varchar(length=100)
    token_hash = Varchar(length=64, unique=True)  # sha256 of the token; the token itself is shown once
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class AuditEntry(Table, tablename="civic_audit_entry"):
    """Who did what as an official; never written for citizens' own private actions."""

    actor = ForeignKey(User, null=True)
    organisation = ForeignKey(Organisation, null=True)
    action = Varchar(length=80)
    subject = Varchar(length=120, default="")  # "responses:12"
    details = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())


class RateLimitHit(Table, tablename="civic_rate_limit_hit"):
    """Kept in the database, so every app process sees the same counts."""

    bucket = Varchar(length=200, index=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
