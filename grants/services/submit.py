"""``application_submit``: the one intake service behind the apply form and the website API."""

from __future__ import annotations

from django.utils import timezone

from grants.budget_doubts import budget_doubts
from grants.budget_rule import NEEDS_REVIEW, Budget, Verdict, decide
from grants.forms import NOTHING_SAVED, ApplicationInput
from grants.models import ApiToken, Application, Lodge, Status
from grants.money import ZERO
from grants.plain_words import for_lodge
from grants.references import next_reference
from grants.rules import fiscal_year_of, read_rules_once, rules_in_force
from grants.selectors.budgets import lodge_budget
from grants.services.budget_lock import budget_lock
from grants.services.decisions import decision_record
from grants.services.mirror_refresh import NINOX_UNREACHABLE, mirror_refresh
from grants.services.refresh_flight import Ticket
from portal.audit import audit_record
from portal.lib.errors import PortalError


@read_rules_once  # one read of the rule versions: the whole decision holds to one set
def application_submit(
    *,
    cleaned: ApplicationInput,
    source: str,
    api_token: ApiToken | None = None,
    arrived: Ticket | None = None,
) -> Application:
    """Refresh the mirror, then decide under the (lodge, fiscal year) lock.

    ``cleaned`` is what `ApplicationForm` (the web form) or `ApplicationJsonForm` (the API)
    accepted: the views validate, this service decides. ``api_token`` is the token an API
    submission came with; it is stored and audited. ``arrived`` is the request's arrival
    (``mirror_refresh.arrival()``, taken before the form was read): the refresh before
    the decision may be one that started any time after it. Raises ``PortalError`` with a
    ``lodge_number`` field error when no lodge has the number (nothing is stored then).
    Every received application is decided at once.
    """
    now = timezone.now()
    rules = rules_in_force(now)

    # The one Ninox call, made before any lock is taken.
    freshness = mirror_refresh(lodge_number=cleaned.lodge_number, arrived=arrived)
    lodge = Lodge.objects.filter(number=cleaned.lodge_number).first()
    if lodge is None and freshness.fresh:
        raise PortalError(
            NOTHING_SAVED,
            {"lodge_number": [f"Lodge number: no lodge has number {cleaned.lodge_number}."]},
        )
    fy = fiscal_year_of(now, rules)
    # Taken before the lock: the counter's row is held for one statement, not the decision.
    reference = next_reference(timezone.localdate(now).year)

    with budget_lock(lodge, fy.key):
        if lodge is not None:
            budget = lodge_budget(lodge.id, fy.key, rules.annual_cap)
            verdict = decide(
                lodge_number=lodge.number,
                lodge_active=lodge.active,
                budget=budget,
                requested=cleaned.amount_requested,
                fy=fy,
                auto_approve_limit=rules.auto_approve_limit,
                ninox_fresh=freshness.fresh,
                doubts=budget_doubts(lodge.id),
                inactive_reason=lodge.inactive_reason,
                stale_reason=freshness.problem,
            )
        else:
            budget = Budget(cap=rules.annual_cap, used_ninox=ZERO, pending_portal=ZERO)
            unreachable = freshness.problem in ("", NINOX_UNREACHABLE)
            verdict = Verdict(
                NEEDS_REVIEW,
                "Ninox unreachable: the lodge number could not be checked"
                if unreachable
                else f"The lodge number could not be checked: {freshness.problem}",
                f"Lodge {cleaned.lodge_number} could not be checked because "
                + for_lodge(
                    "" if unreachable else freshness.problem,
                    instead="our records could not be reached just now",
                )
                + ". A person will review the application.",
            )
        # Stored by ``decision_record`` in its decided state: one insert, no update after.
        application = Application(
            reference=reference,
            lodge=lodge,
            lodge_number=cleaned.lodge_number,
            contact_name=cleaned.contact_name,
            contact_email=cleaned.contact_email,
            charity_name=cleaned.charity_name,
            purpose=cleaned.purpose,
            amount_raised=cleaned.amount_raised,
            amount_requested=cleaned.amount_requested,
            event_date=cleaned.event_date,
            status=Status.SUBMITTED,
            fiscal_year=fy.key,
            source=source,
            api_token=api_token,
        )
        submitted: dict[str, object] = {"source": source}
        if api_token is not None:
            submitted["api_token"] = str(api_token)
        audit_record(
            actor="lodge",
            action="application.submitted",
            obj=application,
            after=submitted,
            message=f"Through the API with token {api_token}." if api_token else "",
        )
        decision_record(
            application=application,
            outcome=verdict.outcome,
            budget=budget,
            rules=rules,
            explanation=verdict.explanation,
            action=f"application.{verdict.outcome}",
            reason=verdict.reason,
            ninox_fresh=freshness.fresh,
        )
    return application
