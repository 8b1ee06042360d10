"""Who a change concerns, and what happens to each person: one pure function.

The rules of CONTRACT.md ("Campaigns"), decided for one directory entry at a
time, so that the fan-out over a million users and the late match of one user
who just moved country take exactly the same decision. Where the contract is
silent, the rule chosen (and written in the README) is the one a data
protection officer would expect:

- The audience filters (country, account type, data categories) say whose data
  the purpose concerns. Within it, a person below ``min_age`` is *excluded*
  from the purpose (``below_min_age``) whatever their account status: a
  suspended minor's data is still a minor's data. Everyone else in it is
  *notified* when their account is ``active``; suspended and deactivated
  accounts are outside (they are notified if reactivated before the start).
- Age is the year of the start date minus ``birth_year``; an unknown birth year
  is notified (the contract's rule), never guessed.
- Data categories are fideslang keys, a dotted hierarchy: ``user.content``
  covers ``user.content.public`` and the other way round, so a user holding
  the broader category, or a narrower one, matches. A user who lists none
  holds them all; an audience that lists none concerns all.
- A notified person is *suppressed* instead, with the first reason that
  applies, in this order: ``already_objected`` (they said no already: telling
  them again is noise), ``no_email``, ``invalid_email``, ``bounced_before``.
  This last step, :func:`recheck`, is what delivery checks again at send
  time (``streams.delivery.attempts``): the same function, the same reasons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from notifications.countries import expand_countries
from notifications.directory import DirectoryEntry


class Verdict(StrEnum):
    """What a campaign does for one person (a delivery attempt's fate is ``smtp_reply.Outcome``)."""

    NOTIFY = "notify"
    SUPPRESS = "suppress"
    EXCLUDE = "exclude"
    OUTSIDE = "outside"


@dataclass(frozen=True, slots=True)
class Decision:
    """An outcome, and for SUPPRESS and EXCLUDE the contract's reason."""

    outcome: Verdict
    reason: str | None = None


NOTIFY = Decision(Verdict.NOTIFY)
OUTSIDE = Decision(Verdict.OUTSIDE)
BELOW_MIN_AGE = Decision(Verdict.EXCLUDE, "below_min_age")
ALREADY_OBJECTED = Decision(Verdict.SUPPRESS, "already_objected")
NO_EMAIL = Decision(Verdict.SUPPRESS, "no_email")
INVALID_EMAIL = Decision(Verdict.SUPPRESS, "invalid_email")
BOUNCED_BEFORE = Decision(Verdict.SUPPRESS, "bounced_before")

# A deliverable address: one @, no whitespace or control characters (CR/LF in
# an address would let it inject headers), a dotted domain without empty labels
# (``a@example..com`` is refused by every relay), at most 254 octets.
_EMAIL = re.compile(
    r"[^@\s\x00-\x1f\x7f<>(),;:\\\"\[\]]+@[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9][A-Za-z0-9-]*)+"
)


def is_deliverable_address(address: str) -> bool:
    """Whether ``address`` is safe and plausible enough to put in an envelope."""
    # ASCII only: an internationalized address needs SMTPUTF8, which the MIME
    # layer does not produce, so it would fail later as a bad header
    return address.isascii() and len(address) <= 254 and _EMAIL.fullmatch(address) is not None


@dataclass(frozen=True, slots=True)
class AudienceRules:
    """A campaign's audience, prepared once for millions of decisions."""

    countries: frozenset[str] | None
    min_age: int | None
    account_types: frozenset[str] | None
    data_categories: tuple[str, ...] | None
    reference_year: int

    @classmethod
    def build(
        cls,
        *,
        countries: Iterable[str] | None,
        min_age: int | None,
        account_types: Iterable[str] | None,
        data_categories: Iterable[str] | None,
        starts_at: datetime,
    ) -> AudienceRules:
        """Rules from an audience; empty lists mean everyone, ``EEA`` is expanded."""
        country_list = list(countries or ())
        types = frozenset(account_types or ())
        categories = tuple(data_categories or ())
        return cls(
            countries=expand_countries(country_list) if country_list else None,
            min_age=min_age,
            account_types=types or None,
            data_categories=categories or None,
            reference_year=starts_at.year,
        )

    def concerns(self, user: DirectoryEntry) -> bool:
        """Whether the purpose concerns ``user``'s data (country, account, categories)."""
        if self.countries is not None and user.get("country") not in self.countries:
            return False
        if self.account_types is not None and user.get("account_type") not in self.account_types:
            return False
        return self.data_categories is None or holds_any(
            user.get("data_categories"), self.data_categories
        )

    def below_min_age(self, user: DirectoryEntry) -> bool:
        birth_year = user.get("birth_year")
        if self.min_age is None or birth_year is None:
            return False
        return self.reference_year - birth_year < self.min_age


def holds_any(held: Iterable[str] | None, wanted: tuple[str, ...]) -> bool:
    """Whether a user holding ``held`` categories (None: all) holds one of ``wanted``."""
    if held is None:
        return True
    return any(_related(h, w) for h in held for w in wanted)


def _related(a: str, b: str) -> bool:
    """``a`` and ``b`` are the same fideslang category, or one contains the other."""
    if a == b:
        return True
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return longer.startswith(shorter) and longer[len(shorter)] == "."


def decide(
    rules: AudienceRules,
    user: DirectoryEntry,
    *,
    objected: bool = False,
    bounced: bool = False,
) -> Decision:
    """What the campaign does for ``user`` (a directory entry)."""
    if not rules.concerns(user):
        return OUTSIDE
    if rules.below_min_age(user):
        return BELOW_MIN_AGE
    if user.get("status", "active") != "active":
        return OUTSIDE
    return recheck(user, objected=objected, bounced=bounced)


def recheck(user: DirectoryEntry, *, objected: bool = False, bounced: bool = False) -> Decision:
    """NOTIFY, or SUPPRESS with the first reason that applies to a notified ``user``.

    The part of :func:`decide` that can change between the fan-out and the
    send (an objection since, a new address, a bounce): :func:`decide` ends
    with it, and delivery calls it again just before sending.
    """
    if objected:
        return ALREADY_OBJECTED
    email = user.get("email")
    if not email:
        return NO_EMAIL
    if not is_deliverable_address(email):
        return INVALID_EMAIL
    if bounced:
        return BOUNCED_BEFORE
    return NOTIFY
