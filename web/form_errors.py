"""Showing a service's validation errors on the form that submitted the data."""

from __future__ import annotations

from workflow.errors import ValidationFailed


def attach_errors(form, exc: ValidationFailed) -> None:
    """Put each field error next to its field (by its last name segment, e.g.
    "parties[0].role" -> role); errors without a field go to the top of the form."""
    for name, message in exc.field_errors.items():
        field = getattr(form, name.split(".")[-1], None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
    if not exc.field_errors:
        form.form_errors.append(exc.detail)
