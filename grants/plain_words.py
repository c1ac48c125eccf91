"""Words a lodge never reads: the names of our machinery (Ninox, outbox, webhook, session, sync).

Staff see the technical reason; a lodge's page, email or API reply gets a plain sentence
instead. ``for_lodge`` passes a sentence through when it has none of these words and gives
the plain stand-in when it has.
"""

from __future__ import annotations

import re

# Whole words only, any case: "Ninox's" is caught, "synchronised" is not.
JARGON = ("Ninox", "outbox", "webhook", "session", "sync")
_JARGON = re.compile(r"\b(?:" + "|".join(JARGON) + r")\b", re.IGNORECASE)

# What a lodge reads instead of each kind of technical reason.
FIGURES_UNCONFIRMED = "we could not confirm the lodge's figures just now"
FIGURES_NEED_CHECKING = "some of the lodge's figures in our records need checking"
LODGE_INACTIVE = "the lodge is marked inactive in our records"


def jargon_in(text: str) -> list[str]:
    """The jargon words ``text`` contains, as written there (empty when it reads plainly)."""
    return _JARGON.findall(text)


def for_lodge(text: str, *, instead: str) -> str:
    """``text`` when a lodge may read it as it is, else ``instead``."""
    return instead if not text or jargon_in(text) else text
