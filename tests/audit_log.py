"""Reading the audit log page in tests: each row's sentence, as a person reads it."""

from __future__ import annotations

import re
from html import unescape


def audit_sentences(html: str) -> list[str]:
    """Each row's sentence, without the date a phone shows above it."""
    cells = re.findall(r'<th scope="row"[^>]*>(.*?)</th>', html, re.S)
    cells = [re.sub(r'<time class="audit-when-inline".*?</time>', "", cell) for cell in cells]
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in cells]
