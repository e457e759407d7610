"""Petitions, the rules each addressee sets for them, signatures and bulk invalidations.

The signature count on a petition (``Petition.signature_count``) is changed in the same
transaction as the signature rows it counts. "One signature per person and petition" is a
unique index (``petitions_signature_one_per_person``, created in the follow-up migration), so
the database itself refuses a second one, whichever process or path tries.
"""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from civic.accounts.tables import User
from civic.responses.tables import OfficialResponse
from civic.territory.tables import Organisation, Territory


class PetitionRule(Table, tablename="petitions_rule"):
    """An addressee's rules for petitions sent to it. Every column left empty (None) means the
    default of Kazakhstan's online petition rules (see ``services.DEFAULTS``); a petition takes a
    copy of the rules in force when it is submitted and opened, so a later change never moves
    the goalposts of a running petition."""

    organisation = ForeignKey(Organisation, unique=True)
    signature_threshold = Integer(null=True, default=None)  # None: computed from the kind and population
    listing_threshold = Integer(null=True, default=None)
    moderation_working_days = Integer(null=True, default=None)
    signing_months = Integer(null=True, default=None)
    signing_level = Integer(null=True, default=None)  # civic.accounts.verification.Level; None: platform default
    response_working_days = Integer(null=True, default=None)
    anonymise_after_days = Integer(null=True, default=None)
    prohibited_topics = JSON(default=[])  # keys of services.PROHIBITED_TOPICS; empty: all of them
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by = ForeignKey(User, null=True)


class Petition(Table, tablename="petitions_petition"):
    key = Varchar(length=16, unique=True)  # the random part of the link: /petitions/<key>
    title = Varchar(length=200)
    ask = Text()  # what is asked (markdown)
    reasons = Text()  # why (markdown)
    summary = Varchar(length=300, default="")
    territory = ForeignKey(Territory, index=True)
    organisation = ForeignKey(Organisation, index=True)  # the addressee
    author = ForeignKey(User, index=True)
    lang = Varchar(length=5, default="kk")
    state = Varchar(length=20, default="moderation", index=True)  # moderation, rejected, open, closed
    submitted_at = Timestamptz(default=TimestamptzNow())
    moderation_due_on = Date(null=True, default=None)
    moderated_at = Timestamptz(null=True, default=None)
    moderated_by = ForeignKey(User, null=True)
    rejection_reason = Varchar(length=30, default="")
    rejection_note = Text(default="")
    # the rules copied from the addressee when the petition was submitted, and again when opened
    signature_threshold = Integer(default=2500)
    listing_threshold = Integer(default=50)
    signing_level = Integer(default=1)
    signing_months = Integer(default=6)
    response_working_days = Integer(default=15)
    anonymise_after_days = Integer(default=90)
    opened_at = Timestamptz(null=True, default=None)
    closes_at = Timestamptz(null=True, default=None, index=True)
    signature_count = Integer(default=0)
    listed_at = Timestamptz(null=True, default=None)  # reached the listing threshold: public in lists
    threshold_reached_at = Timestamptz(null=True, default=None)
    response = ForeignKey(OfficialResponse, null=True)
    answered_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=20, default="")  # granted, partly, refused, insufficient
    outcome_reasons = Text(default="")
    outcome_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    anonymised_at = Timestamptz(null=True, default=None)
    review_reason = Varchar(length=20, default="")  # "burst" when flagged for a moderator's review
    flagged_at = Timestamptz(null=True, default=None)
    review_notified_at = Timestamptz(null=True, default=None)  # when the moderators were told of the flag
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Signature(Table, tablename="petitions_signature"):
    # one per person and petition: unique index petitions_signature_one_per_person (follow-up migration)
    petition = ForeignKey(Petition)
    user = ForeignKey(User, null=True)  # None once the signers' personal data is anonymised
    district = ForeignKey(Territory, null=True)  # the signer's district of residence when signing
    show_name = Boolean(default=True)
    address_hash = Varchar(length=24, default="")  # keyed hash of the signer's network address
    email_domain = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    valid = Boolean(default=True)
    invalidation = Integer(null=True, default=None)  # Invalidation.id that struck it out


class Invalidation(Table, tablename="petitions_invalidation"):
    """A moderator struck out a group of suspicious signatures: what, why, how many, by whom."""

    petition = ForeignKey(Petition, index=True)
    moderator = ForeignKey(User, null=True)
    criterion = Varchar(length=20)  # address, domain, window
    value = Varchar(length=200, default="")  # the address hash, the domain or the window
    reason = Text(default="")
    count = Integer(default=0)
    count_before = Integer(default=0)
    count_after = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
