"""Small input checks shared by services; each returns a message or None."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value, *, max_length: int, required: bool = True, multiline: bool = False):
    """Strip and check a text value; return (value, error)."""
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        return None, "Must be text."
    if not value:
        return None, ("Required." if required else None)
    if _CONTROL.search(value) or (not multiline and ("\n" in value or "\r" in value)):
        return None, "Contains characters that are not allowed."
    if len(value) > max_length:
        return None, f"At most {max_length} characters."
    return value, None


def clean_email(value):
    """Normalise an email address; return (value, error)."""
    value, error = clean_text(value, max_length=254)
    if error or value is None:
        return None, error
    try:
        return validate_email(value, check_deliverability=False).normalized.lower(), None
    except EmailNotValidError as exc:
        return None, str(exc)
