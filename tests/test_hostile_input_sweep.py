"""Hostile input at every endpoint, as every visitor who may reach it.

Random and adversarial bodies go to each view that accepts POST, and hostile query strings
and path segments to each page, with and without forged HTMX headers. Every reply must be
below 500; a 4xx must say what is wrong; a refused request, or a form shown again with its
errors, must store nothing. A URL pattern that accepts POST and is missing from ``POSTS``
fails the sweep, so each new endpoint joins it (new pages join through
``tests/authorization_table.EXPECTED``, which this sweep reads).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode
from uuid import UUID

import pytest
import stripe
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from grants.forms import FIELDS
from grants.models import (
    ApiToken,
    Application,
    Decision,
    EmailLog,
    GrantRules,
    IdempotentReply,
    Lodge,
    NinoxGrant,
    OutboxMessage,
    Payment,
    ReportExport,
    WebhookEvent,
)
from grants.payments.provider import session_object
from grants.rules import current_fiscal_year, rules_in_force
from grants.selectors.applications import status_token
from grants.services.api_tokens import api_token_create
from ninox_backend.ninox.mirror import sync_mirror
from portal import roles
from tests.authorization_table import EXPECTED, VISITORS, named_patterns
from tests.conftest import client_for
from tests.factories import ApplicationFactory
from tests.grants.conftest import valid_body

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec_sweep_" + "b" * 24
SIGNED_IN = ("outsider", "reviewer", "finance", "admin")
EVERYONE = ("anonymous", *SIGNED_IN)
# The rows a request may create; AuditEvent is left out (a refused sign-in is audited on purpose).
WATCHED: tuple[type[Model], ...] = (
    Application,
    Decision,
    Payment,
    WebhookEvent,
    OutboxMessage,
    EmailLog,
    ApiToken,
    IdempotentReply,
    ReportExport,
    GrantRules,
    get_user_model(),
)

# ---- hostile values ------------------------------------------------------------------------

NASTY = (
    "", " ", "0", "-0", "-1", "-500.00", "0.00", "1e3", "1E-2", "5e-324", "NaN", "nan",
    "Infinity", "-Infinity", "1,25.00", "$500", "\u0665\u0660\u0660", "\uff15\uff10\uff10",
    "\U0001d7d3\U0001d7ce\U0001d7ce", "\ufeff500", "12\u200b3", "\u202eevil\u202c", "\u200f",
    "\u0000", "a\u0000b", "\r\nBcc: x@example.org", "' OR 1=1 --", '"; delete Grants; "',
    "select Grants", "Grants where Reference = 1", "<script>alert(1)</script>", "{{ 7*7 }}",
    "9" * 40, "2026-02-30", "1.005", "0x1F4", "true", "null", "[]", "{}", "..%2f..%2f",
    "../../etc/passwd", "\ud800", "x\udfffy", "MG-2026-00001", "approved", "needs_review",
)  # fmt: skip
HUGE = st.builds(
    lambda ch, n: ch * n,
    st.sampled_from(["a", "9", "\u00e9", "\u202e", "\u200b", "' OR 1=1 -- "]),
    st.integers(1_000, 100_000),
)


def values(good: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    """A value for one field: plausible (to get past the first check), hostile, or random."""
    options: list[st.SearchStrategy[str]] = [st.sampled_from(NASTY), st.text(max_size=60), HUGE]
    if good:
        options[:0] = [st.sampled_from(good)] * 2
    return st.one_of(*options)


def pairs(fields: dict[str, tuple[str, ...]]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """A form body as a list of pairs: the good body with up to three fields spoiled (made
    hostile, left out, or sent twice), so each rule is reached with the others satisfied."""

    @st.composite
    def build(draw: Any) -> list[tuple[str, str]]:
        names = sorted(fields)
        spoiled = draw(st.sets(st.sampled_from(names), max_size=3)) if names else set()
        body: list[tuple[str, str]] = []
        for name, good in fields.items():
            if name not in spoiled:
                body += [(name, draw(st.sampled_from(good)))] if good else []
                continue
            how = draw(st.sampled_from(["missing", "hostile", "hostile", "twice"]))
            if how != "missing":
                body.append((name, draw(values(good))))
            if how == "twice":
                body.append((name, draw(values(good))))
        body += draw(
            st.lists(st.tuples(st.sampled_from(NASTY) | st.text(max_size=10), values()), max_size=2)
        )
        return body

    return build()


def encoded(body: list[tuple[str, str]]) -> str:
    # surrogatepass: a lone surrogate goes out as the bytes a broken client would send.
    return urlencode(body, encoding="utf-8", errors="surrogatepass")


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)
HTMX_TARGETS = ("results", "row", "actions", "emails", "queue-counters", "counters", "lodge-name")


@st.composite
def htmx_headers(draw: Any) -> dict[str, str]:
    """Forged HTMX headers, or none."""
    if not draw(st.booleans()):
        return {}
    headers = {"HX-Request": draw(st.sampled_from(["true", "true", "false", "1", ""]))}
    optional = {
        "HX-Target": st.sampled_from(HTMX_TARGETS) | HEADER_TEXT,
        "HX-Current-URL": st.sampled_from(["http://testserver/queue/", "javascript:x"])
        | HEADER_TEXT,
        "HX-Trigger": HEADER_TEXT,
        "HX-Trigger-Name": HEADER_TEXT,
        "HX-Boosted": st.just("true"),
        "HX-Current-URL-URI-AutoEncoded": st.just("true"),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            headers[name] = draw(strategy)
    return headers


# Path segments: sent as they are (already percent-encoded) or quoted from text.
RAW_SEGMENTS = ("..%2f..%2fetc%2fpasswd", "%2e%2e", "..%5c", "%00", "%ff%fe", "%E2%80%AE", "%20")
PATH_TEXT = st.one_of(
    st.sampled_from(RAW_SEGMENTS),
    st.builds(
        lambda text: quote(text, safe="", errors="surrogatepass"),
        st.sampled_from(NASTY).filter(bool) | st.text(min_size=1, max_size=40),
    ),
    st.builds(lambda n: "MG-2026-" + "9" * n, st.integers(10, 5_000)),
)
PATH_DIGITS = st.sampled_from(["0", "00001", "9" * 19, "9" * 40, "18446744073709551616"])
PATH_UUID = st.uuids().map(str)


# ---- the scene: one row of each kind the endpoints act on ---------------------------------


@dataclass
class Scene:
    users: dict[str, Any]
    bearer: str
    review: Application
    approved: Application
    session_id: str
    email: EmailLog
    outbox: OutboxMessage
    token_prefix: str
    victim: Any
    lodge: Lodge
    uidb64: str
    reset_token: str
    export: ReportExport


@pytest.fixture
def scene(ninox: Any, cast: dict[str, Any], make_user: Any, settings: Any) -> Scene:
    sync_mirror(full=True)
    used = NinoxGrant.objects.filter(fiscal_year=current_fiscal_year().key).values("lodge_id")
    fresh_lodge = Lodge.objects.filter(active=True).exclude(id__in=used).order_by("number")[0]
    settings.STRIPE_SECRET_KEY = None  # the dev provider: its checkout page takes POSTs
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    now = timezone.now()
    review = ApplicationFactory.create(
        needs_review=True, lodge=fresh_lodge, review_reason="over the limit"
    )
    approved = ApplicationFactory.create(approved=True, lodge=fresh_lodge)
    # Pressing Pay starts the dev checkout (opening the link starts nothing).
    assert Client().post(reverse("grants:pay", args=[approved.payment_token])).status_code == 200
    payment = Payment.objects.get(application=approved)
    email = EmailLog.objects.create(
        application=approved,
        kind="email_decision",
        to=approved.contact_email,
        subject="Your application",
        status=EmailLog.Status.FAILED,
    )
    outbox = OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.EMAIL_DECISION,
        dedupe_key=f"sweep:{approved.reference}",
        application=approved,
        payload={"application_id": approved.id},
        status=OutboxMessage.Status.FAILED,
        next_attempt_at=now,
    )
    revocable, _ = api_token_create(name="revocable")
    victim = make_user("vic", roles.REVIEWER)
    export = ReportExport.objects.create(
        user=cast["finance"], report="ledger", format="csv", expires_at=now + timedelta(days=1)
    )
    return Scene(
        users=cast,
        bearer=api_token_create(name="sweep")[1],
        review=review,
        approved=approved,
        session_id=payment.stripe_session_id,
        email=email,
        outbox=outbox,
        token_prefix=revocable.prefix,
        victim=victim,
        lodge=fresh_lodge,
        uidb64=urlsafe_base64_encode(force_bytes(victim.pk)),
        reset_token=default_token_generator.make_token(victim),
        export=export,
    )


# ---- the endpoints -------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """How to reach one URL pattern: who may, with which path kwargs, sending which fields."""

    visitors: tuple[str, ...]
    kwargs: Callable[[Scene], dict[str, Any]] = lambda scene: {}
    fields: Callable[[Scene], dict[str, tuple[str, ...]]] = lambda scene: {}
    body: str = "form"  # "form", "json" (the API) or "stripe" (the signed webhook)
    examples: int = 12


def _rules_fields(scene: Scene) -> dict[str, tuple[str, ...]]:
    current = rules_in_force()
    names = (
        "annual_cap",
        "fiscal_year_start_month",
        "fiscal_year_start_day",
        "match_ratio",
        "auto_approve_limit",
        "payment_link_days",
        "vendor_email",
        "finance_email",
        "digest_hour",
    )
    return {name: (str(getattr(current, name) or ""),) for name in names}


def _role_names(scene: Scene) -> dict[str, tuple[str, ...]]:
    return {"roles": roles.ALL_ROLES}


def _apply_fields(scene: Scene) -> dict[str, tuple[str, ...]]:
    good: dict[str, tuple[str, ...]] = {
        name: (str(value),) for name, value in valid_body(scene.lodge.number).items()
    }
    return good | {"website": ("",)}  # the honeypot, which people leave empty


def _by_reference(scene: Scene) -> dict[str, Any]:
    return {"reference": scene.review.reference}


POSTS: dict[str, Endpoint] = {
    "login": Endpoint(
        ("anonymous",),
        fields=lambda s: {"username": ("rita", "vic"), "password": ("x",), "next": ("/queue/",)},
    ),
    "logout": Endpoint(SIGNED_IN, fields=lambda s: {"next": ("/", "//evil.example/")}),
    "two_factor_verify": Endpoint(
        SIGNED_IN, fields=lambda s: {"token": ("123456", "abcd efgh"), "next": ("/",)}
    ),
    "two_factor_setup": Endpoint(SIGNED_IN, fields=lambda s: {"token": ("123456",)}),
    "two_factor_backup_codes": Endpoint(SIGNED_IN, examples=4),
    "password_change": Endpoint(
        SIGNED_IN,
        fields=lambda s: {
            "old_password": ("wrong",),
            "new_password1": ("a-long-new-passphrase",),
            "new_password2": ("a-long-new-passphrase",),
        },
    ),
    "password_reset": Endpoint(
        ("anonymous", "reviewer"), fields=lambda s: {"email": ("vic@example.org",)}
    ),
    "password_reset_confirm": Endpoint(
        ("anonymous",),
        kwargs=lambda s: {"uidb64": s.uidb64, "token": "set-password"},
        fields=lambda s: {
            "new_password1": ("a-long-new-passphrase",),
            "new_password2": ("a-long-new-passphrase",),
        },
    ),
    "grants:apply": Endpoint(
        ("anonymous", "reviewer"),
        fields=lambda s: _apply_fields(s),
        examples=20,
    ),
    "grants:api_applications": Endpoint(("anonymous",), body="json", examples=25),
    "grants:pay": Endpoint(("anonymous",), kwargs=lambda s: {"token": s.approved.payment_token}),
    "grants:pay_dev": Endpoint(
        ("anonymous",),
        kwargs=lambda s: {"token": s.approved.payment_token},
        fields=lambda s: {"attempt": ("1",), "outcome": ("paid", "failed")},
    ),
    "grants:stripe_webhook": Endpoint(("anonymous",), body="stripe", examples=25),
    "grants:decide": Endpoint(
        ("reviewer", "admin"),
        kwargs=_by_reference,
        fields=lambda s: {
            "outcome": ("approved", "rejected"),
            "reason": ("Checked with the lodge",),
            "from": ("detail", "queue"),
        },
        examples=20,
    ),
    "grants:bulk": Endpoint(
        ("reviewer", "admin"),
        fields=lambda s: {
            "selected": (s.review.reference, s.approved.reference),
            "outcome": ("approved", "rejected"),
            "reason": ("Checked",),
            "confirmed": ("yes",),
        },
        examples=20,
    ),
    "grants:email_resend": Endpoint(
        ("reviewer", "admin"),
        kwargs=lambda s: {"reference": s.approved.reference, "email_id": s.email.id},
    ),
    "grants:resend_link": Endpoint(
        ("reviewer", "admin"), kwargs=lambda s: {"reference": s.approved.reference}
    ),
    # Undo takes no fields: whatever is posted, it only undoes the poster's own recent decision.
    "grants:decision_undo": Endpoint(
        ("reviewer", "admin"), kwargs=lambda s: {"reference": s.approved.reference}
    ),
    "grants:cancel": Endpoint(
        ("reviewer", "admin"),
        kwargs=lambda s: {"reference": s.approved.reference},
        fields=lambda s: {"message": ("The event was called off.",)},
    ),
    "grants:refund": Endpoint(
        ("finance", "admin"),
        kwargs=lambda s: {"reference": s.approved.reference},
        fields=lambda s: {
            "amount": ("10.00", ""),
            "reason": ("Fewer guests",),
            "confirm": ("yes",),
        },
    ),
    "manage:invite": Endpoint(
        ("admin",),
        fields=lambda s: (
            {
                "email": ("new@example.org",),
                "username": ("newbie", "vic"),
                "first_name": ("New",),
            }
            | _role_names(s)
        ),
        examples=20,
    ),
    "manage:user": Endpoint(
        ("admin",), kwargs=lambda s: {"username": s.victim.username}, fields=_role_names
    ),
    "manage:user_action": Endpoint(
        ("admin",),
        kwargs=lambda s: {"username": s.victim.username},
        fields=lambda s: {"action": ("deactivate", "reactivate", "reset_second_factor")},
    ),
    "grants_manage:rules": Endpoint(("admin",), fields=_rules_fields, examples=20),
    "grants_manage:tokens": Endpoint(("admin",), fields=lambda s: {"name": ("Website",)}),
    "grants_manage:token_revoke": Endpoint(("admin",), kwargs=lambda s: {"prefix": s.token_prefix}),
    "grants_manage:ninox_sync": Endpoint(("admin",), examples=4),
    "grants_manage:ninox_drift_check": Endpoint(("admin",), examples=4),
    "grants_manage:outbox_retry": Endpoint(("admin",), kwargs=lambda s: {"outbox_id": s.outbox.id}),
    "grants_manage:outbox_retry_failed": Endpoint(("admin",), examples=4),
}

# The real object behind each page's path, so pages render fully before their query is mangled;
# names not listed keep the not-found kwargs of EXPECTED.
PAGE_KWARGS: dict[str, Callable[[Scene], dict[str, Any]]] = {
    "grants:status": lambda s: {"token": status_token(s.review)},
    "grants:api_application": _by_reference,
    "grants:pay": lambda s: {"token": s.approved.payment_token},
    "grants:application": _by_reference,
    "grants:lodge": lambda s: {"number": s.lodge.number},
    "manage:user": lambda s: {"username": s.victim.username},
    "password_reset_confirm": lambda s: {"uidb64": s.uidb64, "token": s.reset_token},
    "reports:export": lambda s: {"uuid": s.export.uuid},
    "reports:export_download": lambda s: {"uuid": s.export.uuid},
}
# The API's read is reached with a bearer token, which EXPECTED's visitors do not carry.
PAGE_VISITORS = {"grants:api_application": ("anonymous",)}
# Pages that may write on a GET: a large report is exported.
PAGE_WRITES: dict[str, tuple[type[Model], ...]] = {
    "reports:summary": (ReportExport,),
    "reports:ledger": (ReportExport,),
    "reports:reconciliation": (ReportExport,),
}
QUERY_KEYS = (
    "q", "sort", "page", "fy", "status", "district", "kind", "date_from", "date_to", "format",
    "selected", "outcome", "lodge_number", "checkout", "next", "action", "actor", "object",
    "amount_min", "amount_max",
)  # fmt: skip
QUERY_GOOD = (
    "csv", "xlsx", "done", "2025", "-used", "number", "approved", "needs_review", "1", "2",
    "2026-01-01", "123",
)  # fmt: skip


def page_visitors(name: str) -> tuple[str, ...]:
    if name in PAGE_VISITORS:
        return PAGE_VISITORS[name]
    statuses, _ = EXPECTED[name]
    return tuple(v for v, s in zip(VISITORS, statuses, strict=True) if s in (200, 404))


PAGES = sorted(name for name in EXPECTED if page_visitors(name))


# ---- sending and judging -------------------------------------------------------------------

PROBLEM = re.compile(
    r'role="alert"|class="errorlist|class="errornote|There is nothing at this address'
    r"|Bad Request"
)


def names_a_problem(response: Any) -> bool:
    if response.get("Content-Type", "").startswith("application/json"):
        message = response.json().get("message")
        return isinstance(message, str) and bool(message.strip())
    return bool(PROBLEM.search(response.content.decode(errors="replace")))


def shows_a_form_error(response: Any) -> bool:
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return False
    return 'class="errorlist' in response.content.decode(errors="replace")


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in WATCHED}


def path_for(name: str, kwargs: dict[str, Any], hostile: dict[str, str]) -> str:
    """The pattern's path with ``hostile`` segments put in verbatim in place of real ones."""
    markers = {key: _marker(index, kwargs[key]) for index, key in enumerate(kwargs)}
    path = reverse(
        name, kwargs={k: markers[k] if k in hostile else v for k, v in kwargs.items()} or None
    )
    for key, segment in hostile.items():
        path = path.replace(str(markers[key]), segment, 1)
    return path


def _marker(index: int, value: Any) -> str:
    """A stand-in the pattern's converter accepts and no real path contains."""
    if isinstance(value, int):
        return f"4242424{index}"
    if isinstance(value, UUID):
        return f"00000000-0000-4000-8000-42424242424{index}"
    return f"PLACEHOLDER{index}"


@st.composite
def hostile_kwargs(draw: Any, kwargs: dict[str, Any]) -> dict[str, str]:
    """Some of the path's kwargs swapped for tricks (most examples keep the real ones)."""
    swapped: dict[str, str] = {}
    for key, value in kwargs.items():
        if draw(st.integers(0, 3)) != 0:
            continue
        if isinstance(value, int):
            swapped[key] = draw(PATH_DIGITS)
        elif isinstance(value, UUID):
            swapped[key] = draw(PATH_UUID)
        else:
            swapped[key] = draw(PATH_TEXT)
    return swapped


def webhook_request(draw: Any, scene: Scene) -> tuple[bytes, dict[str, str]]:
    """A Stripe-shaped event with hostile values; usually signed with the right secret."""
    session: dict[str, Any] = session_object(
        session_id=draw(st.sampled_from([scene.session_id, "cs_test_other"]) | st.text()),
        application=scene.approved,
        payment_status=draw(st.sampled_from(["paid", "unpaid", "no_payment_required"]) | st.text()),
    )
    hostile_json = st.one_of(
        st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(),
        st.sampled_from(NASTY), st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    )  # fmt: skip
    for key in draw(st.sets(st.sampled_from(sorted(session)), max_size=3)):
        session[key] = draw(hostile_json)
    event: Any = {
        "id": draw(st.just("evt_") | st.sampled_from(NASTY)) + secrets.token_hex(6),
        "object": "event",
        "type": draw(
            st.sampled_from(
                [
                    "checkout.session.completed",
                    "checkout.session.async_payment_succeeded",
                    "checkout.session.async_payment_failed",
                    "checkout.session.expired",
                ]
            )
            | st.text(max_size=30)
        ),
        "data": {"object": session} if draw(st.integers(0, 4)) else draw(hostile_json),
    }
    if draw(st.integers(0, 5)) == 0:
        event = draw(hostile_json)
    text = json.dumps(event, allow_nan=True)
    body = text.encode("utf-8", errors="surrogatepass")
    signature = draw(st.sampled_from(["good"] * 6 + ["stale", "wrong secret", "garbage", "none"]))
    headers: dict[str, str] = {}
    if signature in ("good", "stale", "wrong secret"):
        headers["Stripe-Signature"] = stripe.WebhookSignature.generate_signature_header(
            body.decode("utf-8", errors="surrogateescape"),
            WEBHOOK_SECRET if signature != "wrong secret" else "whsec_other",
            timestamp=int(time.time()) - (600 if signature == "stale" else 0),
        )
    elif signature == "garbage":
        headers["Stripe-Signature"] = draw(HEADER_TEXT)
    return body, headers


def api_request(draw: Any, scene: Scene) -> tuple[bytes, dict[str, str], str]:
    """A JSON body with hostile values, as the API's clients might send it."""
    good = {name: (value,) for name, value in valid_body(scene.lodge.number).items()}
    hostile_json = st.one_of(
        values(), st.integers(-(10**20), 10**20), st.floats(), st.booleans(), st.none(),
        st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers()),
    )  # fmt: skip
    body: Any = {name: good[name][0] for name in FIELDS}
    for name in draw(st.sets(st.sampled_from(FIELDS), max_size=3)):
        if draw(st.booleans()):
            del body[name]
        else:
            body[name] = draw(hostile_json)
    if draw(st.integers(0, 3)) == 0:
        body.update(draw(st.dictionaries(st.text(max_size=10), hostile_json, max_size=3)))
    shape = draw(st.sampled_from(["object"] * 8 + ["list", "scalar", "garbage", "duplicate"]))
    if shape == "list":
        body = [body]
    elif shape == "scalar":
        body = draw(hostile_json)
    raw = json.dumps(body, allow_nan=True).encode("utf-8", errors="surrogatepass")
    if shape == "garbage":
        raw = draw(st.binary(max_size=200) | st.just(b"\xff\xfe{") | st.just(b'{"a": 1e999999}'))
    elif shape == "duplicate":  # a key twice: JSON allows it; the parser keeps the last
        raw = b'{"amount_requested": "1", ' + raw.lstrip(b"{") if raw.startswith(b"{") else raw
    headers = {"Authorization": f"Bearer {scene.bearer}"}
    auth = draw(st.sampled_from(["good"] * 6 + ["none", "garbage", "bearer only"]))
    if auth == "none":
        del headers["Authorization"]
    elif auth == "garbage":
        headers["Authorization"] = draw(HEADER_TEXT)
    elif auth == "bearer only":
        headers["Authorization"] = "Bearer "
    if draw(st.booleans()):
        headers["Idempotency-Key"] = draw(HEADER_TEXT | st.just("k" * 300))
    content_type = draw(
        st.sampled_from(
            ["application/json"] * 5 + ["text/plain", "application/json; charset=utf-8"]
        )
    )
    return raw, headers, content_type


def judge(
    response: Any, before: dict[str, int], may_write: tuple[type[Model], ...] | None, context: str
) -> None:
    """No 5xx; a 4xx says why and stores nothing; so does a form shown again with its errors.

    ``may_write`` lists what an accepted request may store (None: anything, as a POST may).
    """
    status = response.status_code
    event(f"{context.split()[0]} -> {status}")  # --hypothesis-show-statistics shows the mix
    assert status < 500, f"{context}: {status}"
    after = counts()
    if 400 <= status < 500:
        assert names_a_problem(response), (
            f"{context}: {status} says nothing: {response.content[:300]!r}"
        )
        assert after == before, f"{context}: {status} but stored {diff(before, after)}"
    elif shows_a_form_error(response):
        assert after == before, f"{context}: form error shown but stored {diff(before, after)}"
    elif may_write is not None:
        written = {m.__name__ for m in may_write}
        unexpected = {k: v for k, v in diff(before, after).items() if k not in written}
        assert not unexpected, f"{context}: stored {unexpected}"


def diff(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in before if after[name] != before[name]}


# ---- bugs the sweep found, fixed, and kept here as regression tests -----------------------------


@pytest.mark.parametrize("amount", ["250.00", [], float("nan")])
def test_a_signed_event_with_an_amount_that_is_not_whole_cents(amount: Any, scene: Scene) -> None:
    session = session_object(
        session_id=scene.session_id, application=scene.approved, payment_status="paid"
    )
    session["amount_total"] = amount
    body = json.dumps(
        {"id": "evt_sweep", "type": "checkout.session.completed", "data": {"object": session}}
    )
    signature = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    response = Client().post(
        reverse("grants:stripe_webhook"),
        body,
        content_type="application/json",
        headers={"Stripe-Signature": signature},
    )
    assert response.status_code < 500
    scene.approved.refresh_from_db()
    assert scene.approved.status == "approved"  # not paid: flagged for finance instead
    assert Payment.objects.filter(stripe_session_id=scene.session_id, flagged=True).exists()


@pytest.mark.parametrize("reference", ["", "a/b"])
def test_bulk_confirm_with_a_reference_no_url_can_hold(reference: str, scene: Scene) -> None:
    response = client_for(scene.users["reviewer"]).post(
        reverse("grants:bulk"),
        {"selected": [scene.review.reference, reference], "reason": "x", "confirmed": "yes"},
    )
    assert response.status_code < 500


def test_outbox_retry_with_an_id_above_the_largest_database_integer(scene: Scene) -> None:
    response = client_for(scene.users["admin"]).post("/manage/outbox/9999999999999999999/retry/")
    assert response.status_code == 404


FAST = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


# ---- the tests -----------------------------------------------------------------------------


def accepts_post(name: str, client: Client) -> bool:
    """Whether the pattern's view takes POSTs, asked with a method no view takes (no side effects).

    A view that states its methods answers 405 with an ``Allow`` header; one that does not
    would take anything, POST included.
    """
    _, kwargs = EXPECTED[name]
    response = client.generic("PROPFIND", reverse(name, kwargs=kwargs or None))
    if response.status_code != 405:
        return True
    return "POST" in response.get("Allow", "")


def test_every_pattern_that_accepts_post_is_swept(admin_user: Any) -> None:
    names = set(named_patterns())
    assert set(POSTS) - names == set(), "these POSTS rows name no pattern"
    taking_post = {
        name
        for name in names
        if accepts_post(name, Client()) and accepts_post(name, client_for(admin_user))
    }
    missing = taking_post - set(POSTS)
    assert not missing, f"add these POST endpoints to POSTS: {sorted(missing)}"
    assert set(PAGES) <= set(EXPECTED), "pages come from tests/authorization_table.EXPECTED"


@pytest.mark.parametrize("name", sorted(POSTS))
def test_hostile_posts_never_fail_and_store_nothing_when_refused(name: str, scene: Scene) -> None:
    endpoint = POSTS[name]

    @settings(max_examples=endpoint.examples, deadline=None, suppress_health_check=FAST)
    @given(data=st.data())
    def sweep(data: Any) -> None:
        kwargs = endpoint.kwargs(scene)
        swapped = data.draw(hostile_kwargs(kwargs), label="path")
        path = path_for(name, kwargs, swapped)
        htmx = data.draw(htmx_headers(), label="htmx")
        if endpoint.body == "json":
            raw, headers, content_type = api_request(data.draw, scene)
        elif endpoint.body == "stripe":
            raw, headers = webhook_request(data.draw, scene)
            content_type = "application/json"
        else:
            body = data.draw(pairs(endpoint.fields(scene)), label="body")
            raw, headers = encoded(body).encode(), {}
            content_type = "application/x-www-form-urlencoded"
        for visitor in endpoint.visitors:
            cache.clear()  # rate limits and lockouts are not under test here
            client = client_for(scene.users[visitor])
            if name == "password_reset_confirm" and not swapped:
                # The real link puts the token in the session and redirects to this form.
                client.get(reverse(name, args=[scene.uidb64, scene.reset_token]))
            before = counts()
            response = client.post(
                path, raw, content_type=content_type, headers={**htmx, **headers}
            )
            judge(response, before, None, f"POST {path[:120]} as {visitor}")

    sweep()


@pytest.mark.parametrize("name", PAGES)
def test_hostile_queries_never_fail_any_page(name: str, scene: Scene) -> None:
    visitors = page_visitors(name)
    kwargs = PAGE_KWARGS[name](scene) if name in PAGE_KWARGS else EXPECTED[name][1]

    @settings(max_examples=5, deadline=None, suppress_health_check=FAST)
    @given(data=st.data())
    def sweep(data: Any) -> None:
        swapped = data.draw(hostile_kwargs(kwargs), label="path")
        path = path_for(name, kwargs, swapped)
        query = data.draw(
            st.lists(
                st.tuples(st.sampled_from(QUERY_KEYS) | st.text(max_size=10), values(QUERY_GOOD)),
                max_size=6,
            ),
            label="query",
        )
        headers = data.draw(htmx_headers(), label="htmx")
        if name.startswith("grants:api"):
            headers["Authorization"] = f"Bearer {scene.bearer}"
        for visitor in visitors:
            cache.clear()
            before = counts()
            response = client_for(scene.users[visitor]).get(
                f"{path}?{encoded(query)}", headers=headers
            )
            judge(response, before, PAGE_WRITES.get(name, ()), f"GET {path[:120]} as {visitor}")

    sweep()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "param", "status"),
    [
        ("/", "fy", 200),
        # A report names the filter it refused: a page shown again with its errors is a 422.
        ("/reports/ledger/", "fy", 422),
        ("/reports/reconciliation/", "fy", 422),
        ("/reports/", "fy", 422),
        ("/lodges/", "q", 200),
        ("/queue/", "q", 200),
    ],
)
def test_a_number_too_long_for_python_in_a_query_is_not_a_500(
    url: str, param: str, status: int, admin_user: Any
) -> None:
    # Python refuses int() of more than 4,300 digits (ValueError): found by the sweep's random seed.
    client = Client()
    client.force_login(admin_user)
    for value in ("9" * 4301, "9" * 40):
        response = client.get(url, {param: value})
        assert response.status_code == status, (url, param, len(value))
