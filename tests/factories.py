"""The one place tests build rows: lodges, Ninox grants, applications in each state, payments, users.

factory_boy factories (as in HackSoft's Django-Styleguide-Example). Every value a test
asserts on is passed by that test; the defaults here are only plausible filler.

    ApplicationFactory.create(lodge=lodge)                  # submitted, not decided
    ApplicationFactory.create(approved=True, lodge=lodge)   # approved, its payment link open
    ApplicationFactory.create(paid=True, lodge=lodge)       # paid, with its paid Payment
    ApplicationFactory.create(paid=True, payment=None)      # paid, no Payment row
    ApplicationFactory.create(needs_review=True, review_reason="Lodge inactive")
    ApplicationFactory.create(rejected=True)
    PaymentFactory.create(application=app, amount=Decimal("450.00"))  # another amount taken
    PaymentFactory.create(orphan=True)          # money for no application we know
    NinoxGrantFactory.create(lodge=lodge)       # a grant entered by hand in Ninox
    DecisionFactory.create(application=app, outcome="approved", kind="review")
    UserFactory.create(username="rita", roles=[roles.REVIEWER])

``.create()`` rather than calling the class: it is typed (it returns the model).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone
from factory.django import DjangoModelFactory

from grants.models import Application, Decision, Lodge, NinoxGrant, Payment, Status
from grants.money import ZERO
from grants.rules import current_fiscal_year

PASSWORD = "correct-horse-battery-staple"


def _fiscal_year() -> int:
    return current_fiscal_year().key


class LodgeFactory(DjangoModelFactory[Lodge]):
    """An active lodge as the mirror holds it; numbers far above the demo Ninox's."""

    class Meta:
        model = Lodge

    ninox_id = factory.Sequence(lambda n: 80000 + n)
    number = factory.Sequence(lambda n: 8000 + n)
    name = factory.LazyAttribute(lambda o: f"Lodge {o.number}")
    district = "North"


class NinoxGrantFactory(DjangoModelFactory[NinoxGrant]):
    """A paid grant in Ninox's Grants table, this fiscal year; entered by hand (no reference)
    unless a ``reference`` is given."""

    class Meta:
        model = NinoxGrant

    ninox_id = factory.Sequence(lambda n: 70000 + n)
    lodge = factory.SubFactory(LodgeFactory)
    lodge_ninox_id = factory.LazyAttribute(lambda o: o.lodge.ninox_id if o.lodge else None)
    reference = ""
    amount = Decimal("500.00")
    grant_date = factory.LazyFunction(timezone.localdate)
    fiscal_year = factory.LazyFunction(_fiscal_year)
    charity = "Food bank"
    status = "Paid"
    paid_at = factory.LazyAttribute(lambda o: timezone.now() if o.status == "Paid" else None)


class ApplicationFactory(DjangoModelFactory[Application]):
    """A lodge's application, submitted and undecided; a trait puts it in another state."""

    class Meta:
        model = Application
        skip_postgeneration_save = True  # the Payment is saved on its own

    class Params:
        # Approved, waiting for the lodge's payment: a link open for 30 days.
        approved = factory.Trait(
            status=Status.APPROVED,
            grant_date=factory.LazyFunction(timezone.localdate),
            decided_at=factory.LazyFunction(timezone.now),
            payment_token=factory.LazyFunction(lambda: secrets.token_urlsafe(32)),
            payment_expires_at=factory.LazyAttribute(lambda o: o.decided_at + timedelta(days=30)),
        )
        # Paid through Stripe: its paid Payment comes too (``payment=None`` leaves it out).
        paid = factory.Trait(
            approved=True,
            status=Status.PAID,
            paid_at=factory.LazyFunction(timezone.now),
            payment=factory.RelatedFactory(
                "tests.factories.PaymentFactory", factory_related_name="application"
            ),
        )
        needs_review = factory.Trait(
            status=Status.NEEDS_REVIEW, review_reason="Over the lodge's remaining budget"
        )
        rejected = factory.Trait(
            status=Status.REJECTED, decided_at=factory.LazyFunction(timezone.now)
        )

    # A year no real reference has, so a test's own MG-2099-… never meets a default one.
    reference = factory.Sequence(lambda n: f"MG-2097-{n:05d}")
    lodge = factory.SubFactory(LodgeFactory)
    lodge_number = factory.LazyAttribute(lambda o: o.lodge.number)
    contact_name = "Jo Secretary"
    contact_email = factory.Sequence(lambda n: f"jo{n}@example.org")
    charity_name = "Food bank"
    purpose = "Winter appeal"
    amount_raised = Decimal("250.00")  # the lodge's share, paid through Stripe
    amount_requested = Decimal("200.00")  # the match: different, so a mix-up shows
    event_date = factory.LazyFunction(timezone.localdate)
    status = Status.SUBMITTED
    fiscal_year = factory.LazyFunction(_fiscal_year)


class DecisionFactory(DjangoModelFactory[Decision]):
    """A decision on an application, with plausible figures; ``undone_at`` set makes it one
    its decider undid (``created_at`` is stored as now: update it to date one)."""

    class Meta:
        model = Decision

    application = factory.SubFactory(ApplicationFactory)
    outcome = Decision.Outcome.APPROVED
    decided_by_name = "rita"
    kind = "review"
    cap = Decimal("4000.00")
    used_ninox = Decimal("1000.00")
    pending_portal = ZERO
    remaining = Decimal("3000.00")
    requested = factory.LazyAttribute(lambda o: o.application.amount_requested)
    rules_version = 1
    explanation = factory.LazyAttribute(lambda o: f"{o.outcome} by {o.decided_by_name}")


class PaymentFactory(DjangoModelFactory[Payment]):
    """A paid Checkout Session for an application's lodge share, named as Stripe's test mode
    names it (``cs_test_<reference>``, ``pi_test_<reference>``)."""

    class Meta:
        model = Payment

    class Params:
        # Money Stripe took for no application we know: flagged for finance.
        orphan = factory.Trait(
            application=None, flagged=True, flag_reason="no application has this session"
        )

    application = factory.SubFactory(ApplicationFactory, paid=True, payment=None)
    stripe_session_id = factory.LazyAttributeSequence(
        lambda o, n: f"cs_test_{o.application.reference}" if o.application else f"cs_test_{n}"
    )
    stripe_payment_intent_id = factory.LazyAttribute(
        lambda o: "pi_" + o.stripe_session_id.removeprefix("cs_")
    )
    amount = factory.LazyAttribute(
        lambda o: o.application.amount_raised if o.application else Decimal("75.00")
    )
    status = Payment.Status.PAID
    paid_at = factory.LazyAttribute(
        lambda o: (o.application and o.application.paid_at) or timezone.now()
    )


class UserFactory(DjangoModelFactory[User]):
    """A staff account with the shared test password, in the named roles (Django Groups)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(user: User, create: bool, extracted: Iterable[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            user.groups.set(Group.objects.filter(name__in=extracted))
