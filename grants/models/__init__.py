"""The grants' models, one module per idea; import them from here."""

from grants.models.api import ApiToken, IdempotentReply
from grants.models.applications import (
    RESERVING,
    TRANSITIONS,
    Application,
    Decision,
    IllegalTransition,
    LodgeBudget,
    Reapply,
    ReferenceCounter,
    Status,
    Transition,
    transition_between,
)
from grants.models.drift import DriftFinding
from grants.models.fields import money_field
from grants.models.ninox import Lodge, NinoxGrant, NinoxQuarantine
from grants.models.payments import EmailLog, OutboxMessage, Payment, Refund, WebhookEvent
from grants.models.reports import ReportExport
from grants.models.rules import GrantRules

__all__ = [
    "RESERVING",
    "TRANSITIONS",
    "ApiToken",
    "Application",
    "Decision",
    "DriftFinding",
    "EmailLog",
    "GrantRules",
    "IdempotentReply",
    "IllegalTransition",
    "Lodge",
    "LodgeBudget",
    "NinoxGrant",
    "NinoxQuarantine",
    "OutboxMessage",
    "Payment",
    "Reapply",
    "ReferenceCounter",
    "Refund",
    "ReportExport",
    "Status",
    "Transition",
    "WebhookEvent",
    "money_field",
    "transition_between",
]
