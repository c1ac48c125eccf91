"""What a run hands back: the profile it proposes, the report, and the lines a person reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..profile import CapabilityProfile, Finding
from .raw import safe_base_url

if TYPE_CHECKING:
    from .probe import Probe


def format_finding(finding: Finding) -> str:
    """``✓ check: detail → action`` (one line)."""
    mark = "✓" if finding.ok else "✗"
    text = f"{mark} {finding.check}: {finding.detail}"
    return f"{text} → {finding.action}" if finding.action else text


def format_profile(profile: CapabilityProfile) -> list[str]:
    """The profile as the lines a person reads (what the client will do)."""
    refused = {True: "refused", False: "allowed", None: "not checked"}[profile.parallel_refused]
    if profile.api == "workspace":
        return [
            "api: workspace",
            "reads: every table whole by offset every NINOX_WORKSPACE_FULL_READ_MINUTES "
            "(60 by default; deletes reconciled); a decision reads its lodge's grants with "
            "one equality filter (a read lacking a grant the portal holds goes to a person)",
            "lookup: an equality filter, every record it returns verified",
            "filter on a reference: "
            + {
                True: "returns the record (a decision reads its lodge's grants in one call)",
                False: "does not return the record (every decision goes to a person)",
                None: "not checked",
            }[profile.reference_filter],
            "query and change feed: none on this API (the full read is the drift check: it "
            "compares each lodge's fiscal-year total with the portal's copy)",
            f"limit: {min(profile.per_page, 100)}",
        ]
    return [
        f"api: {profile.api}",
        "change feed: "
        + ("on (…/changes?sinceSq=)" if profile.change_feed else "off (records?sinceSq=)"),
        "lookup: "
        + (profile.lookup_form or "none shown to work (NX query, then every id read back)"),
        f"query: {'answers' if profile.query else 'refused'}",
        f"perPage: {profile.per_page}",
        f"two parallel calls: {refused} (the portal keeps one call in flight either way)",
    ]


@dataclass
class DoctorReport:
    """What a run found: the profile (with its findings), the calls it cost, a refusal."""

    profile: CapabilityProfile
    calls: int = 0
    #: why the asked-for write test did not run (None when it ran or was not asked)
    write_test_refused: str | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.profile.findings


def proposed_profile(probe: Probe) -> CapabilityProfile:
    """What the run settled, as the profile the client would use (the rest stays conservative)."""
    state = probe.state
    return CapabilityProfile(
        api=state.api,
        change_feed=state.change_feed,
        lookup_form=state.lookup_form,
        query=state.query,
        per_page=state.per_page,
        parallel_refused=state.parallel_refused,
        reference_filter=state.reference_filter,
        checked_at=probe.now(),
        base_url=safe_base_url(probe.database.client.base_url),
        findings=tuple(probe.findings),
    )
