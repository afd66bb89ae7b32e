"""Numbers in URLs and query strings: ids are bounded before they reach the database."""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from workflow.db import INT32_MAX


def ids_in_range(_endpoint, values) -> None:
    """A number in the path that no id column can hold names nothing: 404, as for any other
    missing record, and never a database error (SQLite cannot even bind one past 2**63).

    Checked after routing rather than in the `int` converter, so the 404 is the one of the
    blueprint that owns the path (an API problem under /api/v1, a page elsewhere)."""
    for value in (values or {}).values():
        if isinstance(value, int) and value > INT32_MAX:
            raise NotFound(f"Nothing has the id {value}.")


def id_arg(value: str) -> int:
    """`type=` for an id in `request.args`: a ValueError (the argument is then ignored, as
    any malformed one) unless it is a number an id can be."""
    number = int(value)
    if not 1 <= number <= INT32_MAX:
        raise ValueError(f"{value} is not an id")
    return number


def init_routing(app) -> None:
    app.url_value_preprocessor(ids_in_range)
