"""Delphi studies, their panels, rounds, questions and the pseudonymous answers.

Anonymity is built into the tables (DOMAIN.md §3 "Delphi method", issue "Anonymity, proven"):

* :class:`Panelist` links a person to a study (the invitation, the field, accepted or
  declined). It says nothing about answers.
* :class:`Answer` and :class:`RoundResponse` point at a :class:`Pseudonym`, never at a person.
  A pseudonym's ``key`` is ``HMAC(secret_key, "delphi:<study id>:<user id>")``
  (:func:`modules.delphi.services.pseudonym_key`): the application, which holds the secret, can
  find "my answer" for the signed-in expert; someone reading the tables without the secret
  cannot join an answer to a person. Pseudonyms are created for the whole panel at once, in a
  random order, when a round opens, and their display label ("Expert 37") is drawn at random,
  so neither ids nor labels follow the order of invitation.
* Answers carry no timestamps (the round's own opening and closing times are the only clock), and
  answering is never written to the audit log.
"""

from piccolo.columns import JSON, Boolean, DoublePrecision, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from civic.accounts.tables import User
from civic.territory.tables import Organisation


class Study(Table, tablename="delphi_study"):
    key = Varchar(length=16, unique=True)  # the random part of the address: /delphi/<key>
    organisation = ForeignKey(Organisation, index=True)  # the working group's organisation
    created_by = ForeignKey(User, null=True)
    title = Varchar(length=200)  # the topic
    purpose = Text(default="")
    kind = Varchar(length=20, default="classic")  # classic, foresight, critical_technologies
    horizon_year = Integer(null=True, default=None)  # foresight: 25-30 years ahead; critical technologies: 5-10
    planned_rounds = Integer(default=3)
    lang = Varchar(length=5, default="ru")
    state = Varchar(length=20, default="draft", index=True)  # draft, running, finished
    # consensus rule (services.ConsensusRule): "iqr" (IQR <= iqr_bound units) or "band"
    # (at least band_share of the answers within one unit of the median), plus stability
    consensus_rule = Varchar(length=10, default="iqr")
    iqr_bound = DoublePrecision(default=1.0)
    band_share = DoublePrecision(default=0.7)
    stability_bound = DoublePrecision(default=0.5)
    divergence_rounds = Integer(default=3)  # rounds asked for when round 1 diverges widely
    justification_required = Boolean(default=True)
    conclusion = Text(default="")  # the organiser's recommendation at the end
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)  # results public and searchable


class Panelist(Table, tablename="delphi_panelist"):
    """An invited expert. One row per study and e-mail (unique index delphi_panelist_one_per_email)."""

    study = ForeignKey(Study, index=True)
    user = ForeignKey(User, null=True, index=True)  # None until an invitation to a new account is claimed
    email = Varchar(length=254)
    field = Varchar(length=200, default="")  # the expert's field, e.g. "demography"
    token = Varchar(length=64, unique=True)  # sha256 of the invitation link's token
    state = Varchar(length=20, default="invited")  # invited, accepted, declined, removed
    invited_at = Timestamptz(default=TimestamptzNow())
    invited_in_round = Integer(default=0)  # the study's round number when invited (0: before round 1)
    responded_at = Timestamptz(null=True, default=None)
    removed_at = Timestamptz(null=True, default=None)
    removed_in_round = Integer(null=True, default=None)


class Round(Table, tablename="delphi_round"):
    study = ForeignKey(Study, index=True)
    number = Integer(default=1)
    state = Varchar(length=20, default="draft")  # draft, open, closed, analysed
    deadline = Timestamptz(null=True, default=None)
    opened_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    analysed_at = Timestamptz(null=True, default=None)
    panel_size = Integer(default=0)  # accepted panelists when the round opened
    note = Text(default="")  # the organiser's summary of the round
    reminders_sent_at = Timestamptz(null=True, default=None)


class Question(Table, tablename="delphi_question"):
    """A question of a study; its wording in each round is an :class:`Item`."""

    study = ForeignKey(Study, index=True)
    code = Varchar(length=10)  # "Q1", stable across rounds
    kind = Varchar(length=20)  # numeric, scale, probability, year, ranking, text
    unit = Varchar(length=40, default="")
    min_value = DoublePrecision(null=True, default=None)
    max_value = DoublePrecision(null=True, default=None)
    scale_max = Integer(default=9)  # scale questions: 1-9 or 1-5
    options = JSON(default=[])  # ranking: the options to order
    tolerance = DoublePrecision(null=True, default=None)  # one unit for consensus; None: the kind's default
    roadmap = Boolean(default=False)  # foresight: a year question that is an item of the roadmap
    origin = Varchar(length=200, default="")  # e.g. "from the comments of round 1"
    added_in_round = Integer(default=1)
    position = Integer(default=0)


class Item(Table, tablename="delphi_item"):
    """A question as asked in one round (its wording may change between rounds)."""

    round = ForeignKey(Round, index=True)
    question = ForeignKey(Question, index=True)
    text = Text()
    position = Integer(default=0)


class Pseudonym(Table, tablename="delphi_pseudonym"):
    study = ForeignKey(Study, index=True)
    key = Varchar(length=64)  # HMAC(secret, "delphi:<study>:<user>"), hex; unique per study
    label = Integer(default=0)  # "Expert <label>", drawn at random


class RoundResponse(Table, tablename="delphi_response"):
    """Whether a pseudonym sent its answers of a round (drafts are kept until then)."""

    round = ForeignKey(Round, index=True)
    pseudonym = ForeignKey(Pseudonym)
    submitted = Boolean(default=False)


class Answer(Table, tablename="delphi_answer"):
    """One pseudonymous answer to an item; no timestamps on purpose."""

    round = ForeignKey(Round, index=True)
    item = ForeignKey(Item)
    pseudonym = ForeignKey(Pseudonym)
    value = DoublePrecision(null=True, default=None)  # numeric, scale, probability, year
    ranking = JSON(default=[])  # ranking: option indexes, best first
    text = Text(default="")  # free-text answers
    justification = Text(default="")

