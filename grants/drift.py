"""The drift check: the mirror's FY totals against Ninox's own arithmetic.

The budget rests on the mirror (``grants.selectors.budgets``): Ninox grants in the fiscal year,
status not Cancelled. If the mirror ever misses a change, that figure is wrong and
nobody notices. So, hourly and on the health page's button, the lodges with activity
this fiscal year (mirrored grants or portal applications in it, plus any lodge with an
open finding) are compared with what Ninox itself computes: one NX query answers many
lodges at once::

    for driftLodge in (select Lodges where (Id = 3 or Id = 7 or Id = 12)) order by Id do
        sum((select Grants where (Lodge = driftLodge and 'Grant Date' >= date(2026, 5, 1)
             and 'Grant Date' <= date(2027, 4, 30) and Status != "Cancelled")).Amount)
    end

built with :mod:`ninox_backend.nx` (every value a literal, every name quoted), in
chunks of ``LODGES_PER_QUERY`` lodges: one call an hour at demo size.

A lodge whose figures differ at cent precision gets an open :class:`DriftFinding`
at once (so ``drift_doubts`` sends its applications to review), and its grants in
the year are read again right away (an NX query for their ids, then each record, through
the mirror's own handler). If the figures then agree the finding is resolved; if not,
it stays open and is listed for staff on ``/health/`` with both figures, until a later
clean check resolves it. A refused ``/query`` (any ``NinoxError``), or a profile in which
the doctor saw it refused, makes the check "not available": stored for the health page,
never a failure of anything else.

On the workspace API (no NX) the sync's full read is the comparison
(:class:`FullReadComparison`, called by the grants mirror's handler): once it has fetched
every Grants record and before the mirror changes, each lodge's FY total is computed from
what Ninox returned with the NX sum's arithmetic (:func:`totals_from_records`) and compared
with the mirror's; a lodge that differs gets its finding as above, the full read then
updates the mirror (its re-read), and the figures are compared again. The hourly
``drift_check`` there only reports the last comparison (no call).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from grants.fiscal_year import FiscalYear
from grants.models import Application, DriftFinding, Lodge, NinoxGrant
from grants.money import ZERO, format_money
from grants.rules import current_fiscal_year, rules_in_force
from grants.selectors.budgets import used_in_ninox, used_in_ninox_expression
from ninox_backend import nx
from ninox_backend.exceptions import NinoxError, NinoxNotFound
from ninox_backend.ninox import connection
from ninox_backend.ninox.mirror import registered
from ninox_backend.types import Record
from portal.health import record_check

logger = logging.getLogger("grants.drift")

#: the service check the health page reads ("ok", or why the check is not available)
DRIFT_CHECK = "ninox_drift"
#: lodges per NX query: one call an hour for a foundation of a few hundred active lodges
LODGES_PER_QUERY = 200
#: lodges whose grants one check reads again (a mass edit must not spend the month's calls)
REREADS_PER_CHECK = 10
CENT = Decimal("0.01")
# The loop variable of the NX we send; not a field name of any mapped table.
_LODGE_VAR = "driftLodge"
_RECORD_ID = re.compile(r"[A-Za-z]*([0-9]+)\Z")


class DriftUnavailable(Exception):
    """Ninox cannot answer the check (``/query`` refused, or a reply of another shape)."""


@dataclass
class DriftReport:
    """What one drift check did."""

    available: bool = True
    detail: str = ""
    compared: int = 0
    #: lodge numbers whose figures differed before the re-read
    mismatched: list[int] = field(default_factory=list)
    #: lodge numbers whose re-read made the figures agree
    repaired: list[int] = field(default_factory=list)
    #: lodge numbers still differing (open findings)
    still_open: list[int] = field(default_factory=list)
    resolved: int = 0

    def __str__(self) -> str:
        if not self.available:
            return f"not available: {self.detail}"
        text = f"{self.compared} lodge(s) compared"
        if self.mismatched:
            text += f"; differed: {len(self.mismatched)}, repaired by re-reading: "
            text += f"{len(self.repaired)}, still differing: {len(self.still_open)}"
        if self.resolved:
            text += f"; {self.resolved} earlier finding(s) resolved"
        return text


# ---- what the decision asks ------------------------------------------------------------


def open_drift(lodge_id: int) -> QuerySet[DriftFinding]:
    """The lodge's unresolved drift findings."""
    return DriftFinding.objects.filter(lodge_id=lodge_id, resolved_at__isnull=True)


def drift_doubts(lodge_id: int | None) -> list[str]:
    """Reasons from unresolved drift findings for this lodge (empty when there are none)."""
    if lodge_id is None:
        return []
    findings = list(open_drift(lodge_id))
    if not findings:
        return []
    start = rules_in_force().fiscal_year_start
    reasons = []
    for finding in findings:
        fiscal = FiscalYear.from_key(finding.fiscal_year, start)
        reasons.append(
            f"Ninox's own total for this lodge in {fiscal.label} is "
            f"{format_money(finding.ninox_total)}, but the portal's copy says "
            f"{format_money(finding.mirror_total)} (drift check of "
            f"{timezone.localtime(finding.checked_at):%b %-d, %H:%M}); "
            "the budget cannot be trusted until the figures agree."
        )
    return reasons


def open_findings() -> list[DriftFinding]:
    """The findings staff must look at, newest first, with their lodges."""
    return list(
        DriftFinding.objects.filter(resolved_at__isnull=True)
        .select_related("lodge")
        .order_by("-found_at", "-id")
    )


# ---- NX ----------------------------------------------------------------------------------


def _var(name: str) -> nx.Expr:
    return nx.Expr(nx.name(name))


def _lodges(lodge_ninox_ids: Sequence[int]) -> nx.Expr:
    """``(select Lodges where (Id = 3 or Id = 7)) order by Id``: the lodges, by ascending id."""
    lodges = connection.mapping()["lodges"]
    chosen = nx.select(lodges.name).where(nx.or_(*(nx.eq("Id", int(i)) for i in lodge_ninox_ids)))
    return nx.Expr(f"({chosen}) order by {nx.field('Id')}")


def _for_each_lodge(lodge_ninox_ids: Sequence[int], body: nx.Expr) -> nx.Expr:
    """``for driftLodge in <the lodges by id> do body end``: one value per lodge Ninox has."""
    return nx.Expr(f"for {_var(_LODGE_VAR)} in {_lodges(lodge_ninox_ids)} do {body} end")


def _lodge_grants(fiscal: FiscalYear, *, counted_only: bool) -> nx.Select:
    """``select Grants where Lodge = driftLodge and 'Grant Date' in the FY [and not Cancelled]``."""
    grants = connection.mapping()["grants"]
    conditions = [
        nx.eq(grants.field("lodge"), _var(_LODGE_VAR)),
        nx.ge(grants.field("grant_date"), nx.date(fiscal.start)),
        nx.le(grants.field("grant_date"), nx.date(fiscal.end)),
    ]
    if counted_only:
        conditions.append(nx.ne(grants.field("status"), NinoxGrant.CANCELLED))
    return nx.select(grants.name).where(*conditions)


def sums_query(lodge_ninox_ids: Sequence[int], fiscal: FiscalYear) -> nx.Expr:
    """One NX query: each lodge's FY total as Ninox computes it, by ascending lodge id."""
    amount = connection.mapping()["grants"].field("amount")
    grants = _lodge_grants(fiscal, counted_only=True)
    return _for_each_lodge(lodge_ninox_ids, nx.sum_(grants, amount))


def grant_ids_query(lodge_ninox_id: int, fiscal: FiscalYear) -> nx.Expr:
    """One NX query: the lodge's grants in the FY whatever their status (``[["B12", …]]``)."""
    return _for_each_lodge([lodge_ninox_id], _lodge_grants(fiscal, counted_only=False))


def _money(value: Any) -> Decimal:
    if value is None:
        return ZERO  # NX: the sum over nothing is null
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise DriftUnavailable(f"Ninox answered a total of another shape ({type(value).__name__})")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise DriftUnavailable(f"Ninox answered a total that is not a number: {value!r}") from None
    if not amount.is_finite():
        raise DriftUnavailable(f"Ninox answered a total that is not a number: {value!r}")
    return amount.quantize(CENT)


def _record_id(value: Any) -> int:
    """A record in an NX reply: ``"B12"`` (documented), or a bare id."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool) and value == int(value):
        return int(value)
    match = _RECORD_ID.match(value) if isinstance(value, str) else None
    if match is None:
        raise DriftUnavailable(f"Ninox answered a record of another shape: {value!r}")
    return int(match.group(1))


def _query(expr: nx.Expr) -> Any:
    try:
        return connection.database().query(expr)
    except NinoxError as exc:
        raise DriftUnavailable(f"Ninox refused the query: {type(exc).__name__}: {exc}") from exc


def _as_list(reply: Any, what: str) -> list[Any]:
    if not isinstance(reply, list):
        raise DriftUnavailable(
            f"Ninox answered {type(reply).__name__} where a list of {what} was asked"
        )
    return reply


def ninox_totals(lodge_ninox_ids: Iterable[int], fiscal: FiscalYear) -> dict[int, Decimal]:
    """Each lodge's FY total by Ninox's own arithmetic, ``LODGES_PER_QUERY`` lodges per call.

    A lodge Ninox no longer has counts $0.00 there (no lodge, no grants); finding out
    which one it is costs a second call, only then.
    """
    ids = sorted(set(lodge_ninox_ids))
    totals: dict[int, Decimal] = {}
    for start in range(0, len(ids), LODGES_PER_QUERY):
        chunk = ids[start : start + LODGES_PER_QUERY]
        sums = _as_list(_query(sums_query(chunk, fiscal)), "totals")
        present = chunk
        if len(sums) != len(chunk):
            present = [_record_id(r) for r in _as_list(_query(_lodges(chunk)), "lodges")]
            if len(present) != len(sums) or not set(present) <= set(chunk):
                raise DriftUnavailable("Ninox answered totals that cannot be matched to lodges")
        totals.update(dict.fromkeys(chunk, ZERO))
        totals.update(zip(present, (_money(value) for value in sums), strict=True))
    return totals


def ninox_grant_ids(lodge_ninox_id: int, fiscal: FiscalYear) -> set[int]:
    """The ids of the lodge's grants in the FY, as Ninox selects them (one call)."""
    reply = _as_list(_query(grant_ids_query(lodge_ninox_id, fiscal)), "grants")
    if not reply:
        return set()  # Ninox has no such lodge
    if len(reply) != 1:
        raise DriftUnavailable("Ninox answered the lodge's grants in another shape")
    found = reply[0] if isinstance(reply[0], list) else [] if reply[0] is None else [reply[0]]
    return {_record_id(value) for value in found}


# ---- the check ---------------------------------------------------------------------------


def _lodges_to_check(fiscal: FiscalYear, current: bool) -> list[Lodge]:
    open_here = DriftFinding.objects.filter(fiscal_year=fiscal.key, resolved_at__isnull=True)
    active = Q(id__in=open_here.values("lodge_id"))
    if current:
        active |= Q(
            id__in=NinoxGrant.objects.filter(fiscal_year=fiscal.key, lodge__isnull=False).values(
                "lodge_id"
            )
        ) | Q(
            id__in=Application.objects.filter(fiscal_year=fiscal.key, lodge__isnull=False).values(
                "lodge_id"
            )
        )
    return list(
        Lodge.objects.filter(active)
        .annotate(used_ninox=used_in_ninox_expression(fiscal.key))
        .order_by("number", "id")
    )


def _note_mismatch(lodge: Lodge, fiscal: FiscalYear, mirror: Decimal, ninox: Decimal) -> int:
    now = timezone.now()
    with transaction.atomic():
        finding = (
            DriftFinding.objects.select_for_update()
            .filter(lodge=lodge, fiscal_year=fiscal.key, resolved_at__isnull=True)
            .first()
        )
        if finding is None:
            finding = DriftFinding.objects.create(
                lodge=lodge,
                fiscal_year=fiscal.key,
                mirror_total=mirror,
                ninox_total=ninox,
                found_at=now,
                checked_at=now,
            )
        else:
            finding.mirror_total, finding.ninox_total, finding.checked_at = mirror, ninox, now
            finding.save(update_fields=["mirror_total", "ninox_total", "checked_at"])
    logger.warning(
        "Drift: lodge %s %s: mirror %s, Ninox %s", lodge.number, fiscal.label, mirror, ninox
    )
    return finding.id


def _resolve(findings: Iterable[int], resolution: str) -> int:
    return DriftFinding.objects.filter(id__in=list(findings), resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolution=resolution[:200]
    )


def reread_lodge_grants(lodge: Lodge, fiscal: FiscalYear) -> int:
    """Read again every grant of the lodge in the FY, in Ninox or in the mirror; returns reads.

    Ninox names its grants (one NX query); the mirror adds the ones it files under the
    lodge (a grant moved to another lodge or year in Ninox is read, and refiled, too).
    Each is read by id and handed to the mirror's own handler; one Ninox no longer has
    is deleted from the mirror.
    """
    ids = ninox_grant_ids(lodge.ninox_id, fiscal)
    ids.update(
        NinoxGrant.objects.filter(
            Q(lodge=lodge) | Q(lodge_ninox_id=lodge.ninox_id), fiscal_year=fiscal.key
        ).values_list("ninox_id", flat=True)
    )
    handler = registered()["grants"]()
    table = connection.database().table(connection.mapping()["grants"].name)
    gone = []
    for record_id in sorted(ids):
        try:
            record = table.get(record_id)
        except NinoxNotFound:
            gone.append(record_id)
            continue
        except NinoxError as exc:
            raise DriftUnavailable(f"could not read grant {record_id}: {exc}") from exc
        handler.upsert([record])
    if gone:
        handler.delete(gone)
    return len(ids)


def _check_year(fiscal: FiscalYear, current: bool, report: DriftReport) -> None:
    lodges = _lodges_to_check(fiscal, current)
    if not lodges:
        return
    totals = ninox_totals([lodge.ninox_id for lodge in lodges], fiscal)
    report.compared += len(lodges)
    agreeing = []
    for lodge in lodges:
        mirror = Decimal(lodge.used_ninox).quantize(CENT)  # type: ignore[attr-defined]
        ninox = totals[lodge.ninox_id]
        if mirror == ninox:
            agreeing.append(lodge.id)
            continue
        report.mismatched.append(lodge.number)
        finding_id = _note_mismatch(lodge, fiscal, mirror, ninox)
        if len(report.mismatched) > REREADS_PER_CHECK:
            # Within the call budget: the open finding holds until the next check reads it.
            report.still_open.append(lodge.number)
            continue
        reread_lodge_grants(lodge, fiscal)
        DriftFinding.objects.filter(id=finding_id).update(reread_at=timezone.now())
        mirror_again = used_in_ninox(lodge.id, fiscal.key)
        if mirror_again == ninox:
            report.repaired.append(lodge.number)
            _resolve([finding_id], "the lodge's grants were read again and now agree")
        else:
            report.still_open.append(lodge.number)
            DriftFinding.objects.filter(id=finding_id).update(mirror_total=mirror_again)
    report.resolved += _resolve(
        DriftFinding.objects.filter(
            lodge_id__in=agreeing, fiscal_year=fiscal.key, resolved_at__isnull=True
        ).values_list("id", flat=True),
        "a later check found the figures agree",
    )


# ---- the workspace API: the full read is the comparison ------------------------------------


def totals_from_records(records: Iterable[Record], fiscal: FiscalYear) -> dict[int, Decimal]:
    """Each lodge's (by Ninox id) FY total from Grants records as Ninox returned them, with
    the NX sum's arithmetic (``sums_query``): Lodge is the lodge, Grant Date within the FY,
    Status not Cancelled, the sum of Amount (an empty Amount adds nothing).

    A record whose Lodge, Grant Date or Amount is of another shape is left out: the mirror
    quarantines it (its lodge's applications go to a person), and the lodge's figure then
    differs from what the mirror held, which is what the comparison is for.
    """
    fields = connection.mapping()["grants"].field
    lodge_f, date_f, status_f, amount_f = (
        fields(k) for k in ("lodge", "grant_date", "status", "amount")
    )
    totals: dict[int, Decimal] = {}
    for record in records:
        lodge, when, amount = record.get(lodge_f), record.get(date_f), record.get(amount_f)
        if isinstance(lodge, bool) or not isinstance(lodge, int):
            continue
        if isinstance(when, datetime) or not isinstance(when, date):
            continue
        if not fiscal.start <= when <= fiscal.end:
            continue
        if record.get(status_f) == NinoxGrant.CANCELLED:
            continue
        if amount is None:
            amount = ZERO
        if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
            continue
        totals[lodge] = totals.get(lodge, ZERO) + Decimal(amount)
    return {lodge: total.quantize(CENT) for lodge, total in totals.items()}


class FullReadComparison:
    """One workspace full read of Grants as the drift check: :meth:`fetched` compares each
    lodge's FY total in what Ninox returned with the mirror's before the mirror changes
    (a difference opens a finding, as the classic check does); :meth:`applied`, once the
    full read has updated the mirror, compares again (the classic check's re-read), resolves
    what now agrees and stores the result for the health page."""

    def __init__(self) -> None:
        self.report = DriftReport()
        #: (finding id, lodge, fiscal year, Ninox's total) of each lodge that differed
        self.differed: list[tuple[int, Lodge, FiscalYear, Decimal]] = []
        self.details: list[str] = []
        self.failed = False

    def fetched(self, records: list[Record]) -> None:
        try:
            self._compare(records)
        except Exception as exc:  # the comparison must never stop the mirror's update
            logger.exception("Drift comparison of the full read failed")
            self.failed = True
            self.report.available = False
            self.report.detail = f"the full read's comparison failed: {type(exc).__name__}"
            record_check(DRIFT_CHECK, ok=False, detail=f"not available: {self.report.detail}")

    def _compare(self, records: list[Record]) -> None:
        current = current_fiscal_year()
        start = rules_in_force().fiscal_year_start
        years = {current.key} | set(
            DriftFinding.objects.filter(resolved_at__isnull=True).values_list(
                "fiscal_year", flat=True
            )
        )
        for key in sorted(years, reverse=True):
            fiscal = FiscalYear.from_key(key, start)
            totals = totals_from_records(records, fiscal)
            lodges = {lodge.id: lodge for lodge in _lodges_to_check(fiscal, key == current.key)}
            if key == current.key:
                # A lodge Ninox has grants for that the mirror files nowhere in the year.
                lodges.update(
                    (lodge.id, lodge)
                    for lodge in Lodge.objects.filter(ninox_id__in=list(totals))
                    .exclude(id__in=list(lodges))
                    .annotate(used_ninox=used_in_ninox_expression(fiscal.key))
                )
            self.report.compared += len(lodges)
            agreeing = []
            for lodge in sorted(lodges.values(), key=lambda lodge: (lodge.number, lodge.id)):
                mirror = Decimal(lodge.used_ninox).quantize(CENT)  # type: ignore[attr-defined]
                ninox = totals.get(lodge.ninox_id, ZERO)
                if mirror == ninox:
                    agreeing.append(lodge.id)
                    continue
                self.report.mismatched.append(lodge.number)
                finding_id = _note_mismatch(lodge, fiscal, mirror, ninox)
                self.differed.append((finding_id, lodge, fiscal, ninox))
                self.details.append(
                    f"lodge {lodge.number} {fiscal.label}: Ninox {format_money(ninox)}, "
                    f"the portal's copy {format_money(mirror)}"
                )
            self.report.resolved += _resolve(
                DriftFinding.objects.filter(
                    lodge_id__in=agreeing, fiscal_year=fiscal.key, resolved_at__isnull=True
                ).values_list("id", flat=True),
                "a later check found the figures agree",
            )

    def applied(self) -> None:
        if self.failed:
            return
        try:
            for finding_id, lodge, fiscal, ninox in self.differed:
                DriftFinding.objects.filter(id=finding_id).update(reread_at=timezone.now())
                mirror_again = used_in_ninox(lodge.id, fiscal.key)
                if mirror_again == ninox:
                    self.report.repaired.append(lodge.number)
                    _resolve(
                        [finding_id], "the full read updated the portal's copy; they now agree"
                    )
                else:
                    self.report.still_open.append(lodge.number)
                    DriftFinding.objects.filter(id=finding_id).update(mirror_total=mirror_again)
        except Exception as exc:
            logger.exception("Drift comparison after the full read failed")
            record_check(
                DRIFT_CHECK, ok=False, detail=f"not available: {type(exc).__name__} after the read"
            )
            return
        detail = f"by the full read of every grant: {self.report}"
        if self.details:
            shown = "; ".join(self.details[:5]) + ("; …" if len(self.details) > 5 else "")
            detail += f" ({shown})"
        record_check(DRIFT_CHECK, ok=not self.report.still_open, detail=detail[:500])


def drift_check(*, read_now: bool = False) -> DriftReport:
    """Compare the mirror's FY totals with Ninox's for the lodges with activity; store the result.

    Never raises for Ninox's sake: a refused or misunderstood ``/query`` is a report
    with ``available=False``, stored as the ``ninox_drift`` check for the health page.
    On the workspace API the full read of Grants compares: hourly (beat) this keeps its
    last result at no cost; ``read_now`` (the health page's button) reads Grants whole now.
    """
    from ninox_backend.ninox.connection import is_workspace
    from ninox_backend.ninox.mirror import full_read_interval
    from ninox_backend.ninox.profile_store import load_profile

    report = DriftReport()
    if is_workspace():
        # No NX to sum with: the sync's full read of Grants compares (FullReadComparison)
        # and stores what it found; unless asked to read now, this costs no call.
        report.available = False
        report.detail = (
            f"the workspace API has no NX query; the full read every {full_read_interval()} "
            "compares each lodge's total in what Ninox returned with the portal's copy"
        )
        if read_now:
            from ninox_backend.ninox.mirror import sync_mirror

            try:
                sync_mirror(full=True, tables=["grants"])
            except NinoxError as exc:  # stored as the sync's error for the health page
                report.detail = f"the full read of Grants failed: {type(exc).__name__}: {exc}"
                record_check(DRIFT_CHECK, ok=False, detail=f"not available: {report.detail}"[:500])
        return report
    if not load_profile().query:
        report.available = False
        report.detail = "the doctor saw Ninox refuse /query on this account"
        record_check(DRIFT_CHECK, ok=False, detail=f"not available: {report.detail}")
        return report
    current = current_fiscal_year()
    start = rules_in_force().fiscal_year_start
    years = {current.key} | set(
        DriftFinding.objects.filter(resolved_at__isnull=True).values_list("fiscal_year", flat=True)
    )
    try:
        for key in sorted(years, reverse=True):
            _check_year(FiscalYear.from_key(key, start), key == current.key, report)
    except DriftUnavailable as exc:
        report.available = False
        report.detail = str(exc)[:400]
        logger.warning("Drift check not available: %s", report.detail)
        record_check(DRIFT_CHECK, ok=False, detail=f"not available: {report.detail}")
        return report
    record_check(DRIFT_CHECK, ok=not report.still_open, detail=str(report))
    return report
