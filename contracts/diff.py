"""Word-level differences between the library wording and a negotiated text."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_TOKEN = re.compile(r"\s+|[^\s]+")


def word_diff(standard: str, negotiated: str) -> list[tuple[str, str]]:
    """Return [(op, text)] with op in {"same", "del", "ins"}, word by word."""
    a, b = _TOKEN.findall(standard), _TOKEN.findall(negotiated)
    out: list[tuple[str, str]] = []
    matcher = SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(("same", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            out.append(("del", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            out.append(("ins", "".join(b[j1:j2])))
    return out
