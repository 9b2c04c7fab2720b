"""One definition of "looks like a Swedish personal identity number".

May import: stdlib only.

Case references must be pseudonyms, and audit details and log fields must never hold
an identity number, so the store, the report, the audit trail and the log filter all
ask the same question; one pattern keeps their answers the same. It errs on refusing:
ten or twelve digits (YYMMDD-NNNN, YYYYMMDDNNNN, samordningsnummer included), with or
without ``-``, ``+`` or a space, not part of a longer run of digits. No date or Luhn
check, on purpose.
"""

from __future__ import annotations

import re

__all__ = ["looks_like_personnummer"]

_PERSONNUMMER = re.compile(r"(?<!\d)(?:\d{2})?\d{6}[-+ ]?\d{4}(?!\d)")


def looks_like_personnummer(text: str) -> bool:
    """Whether ``text`` contains something shaped like a personnummer or samordningsnummer."""
    return _PERSONNUMMER.search(text) is not None
