"""The doctor: settle, against one real Ninox account, each thing the documents leave open.

Ninox's documents do not say what ``/changes`` answers, what a lookup does with a
key it does not know, how large a page may be, or whether a date arrives as text
or as a number. :class:`Doctor` asks the account itself, one check at a time, and
turns what it saw into :class:`~ninox_backend.profile.Finding` lines and a
:class:`~ninox_backend.profile.CapabilityProfile` that the client then uses.

It is read-only unless asked for a write test. Its probes are raw calls through
``client.request`` (and, for the error body and the parallel-call check, plain
``httpx`` clients from ``http_factory``), so they do not depend on the client's
own lookup, paging or change-feed code: the doctor judges that code's assumptions,
it must not share them. It stores only what it saw; anything it could not settle
stays at the conservative default.

``--write-test TABLE`` creates one scratch record, looks it up, updates it and
deletes it, reading the change feed after each step: the feed is switched on only
when creates, updates *and* deletes each appear in it in a shape the portal fully
understands. A table with ``afterCreate``/``afterUpdate`` triggers is refused
unless ``force`` (a trigger could write elsewhere).

One module per idea: ``runner`` (the :class:`Doctor` and the order of the checks),
``probe`` (one run's context: what was seen, the findings, the raw calls), the
checks ``api``, ``tables`` (schema and mapped ids), ``pages`` (the ``perPage`` cap),
``values`` (the shape of each mapped field's values), ``since`` (``records?sinceSq=``),
``feed`` (the change feed), ``lookup``, ``query``, ``transport`` (error body, latency,
parallel calls) and ``write_test``; ``report`` (the proposed profile and the lines a
person reads), ``raw`` (plain httpx clients, the printable base URL) and ``replies``
(reading raw replies).
"""

from .raw import raw_http_factory, safe_base_url
from .report import DoctorReport, format_finding, format_profile
from .runner import Doctor

__all__ = [
    "Doctor",
    "DoctorReport",
    "format_finding",
    "format_profile",
    "raw_http_factory",
    "safe_base_url",
]
