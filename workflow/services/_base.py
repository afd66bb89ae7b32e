"""Shared steps of every service: load with access check, commit with conflict mapping."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..access import can_view
from ..db import begin_write
from ..definitions import get_workflow
from ..errors import Conflict, NotFound, PermissionDenied
from ..models import Partnership

CONCURRENT_CHANGE = "Someone else changed this partnership at the same time. Reload and try again."


@contextmanager
def write(session: Session, *, keep=None, expire: bool = True):
    """Run a service body in a write transaction; commit, or roll back on any error.

    `keep`: the acting user, loaded before the write; `expire`: see `begin_write`. Yields
    whether the acting user's row changed since it was loaded."""
    changed = begin_write(session, keep=keep, expire=expire)
    try:
        yield changed
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise Conflict(CONCURRENT_CHANGE) from exc
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"The change conflicts with existing data: {_integrity_hint(exc)}") from exc
    except BaseException:
        session.rollback()
        raise


def _integrity_hint(exc: IntegrityError) -> str:
    text = str(exc.orig).lower()
    if "unique" in text or "duplicate" in text:
        return "an entry with the same name or key already exists."
    if "foreign key" in text:
        return "it refers to something that does not exist or is still in use."
    return "a database constraint refused it."


def load_partnership(session: Session, actor, partnership_id: int, options=(), *,
                     statement=None) -> Partnership:
    """Load a partnership the actor may see, fresh from the database, or raise NotFound.

    `statement`, instead of `options`: a prepared select of the partnership with a
    `partnership_id` parameter (and populate_existing), for hot paths that build it once.
    """
    if statement is None:
        partnership = session.get(Partnership, partnership_id, populate_existing=True,
                                  options=list(options))
    else:
        partnership = session.execute(statement, {"partnership_id": partnership_id}
                                      ).unique().scalar_one_or_none()
    if partnership is None or not can_view(actor, partnership):
        raise NotFound(f"Partnership {partnership_id} not found.")
    return partnership


def check_version(partnership: Partnership, expected_version: int | None) -> None:
    """Raise Conflict when the caller edited an older version than the stored one."""
    if expected_version is not None and partnership.version != expected_version:
        raise Conflict(
            f"{partnership.reference} changed since you loaded it "
            f"(version {expected_version}, now {partnership.version}). Reload and try again.",
            current_version=partnership.version,
        )


def require_role(actor, *roles: str, doing: str) -> None:
    """Raise PermissionDenied unless the actor has one of `roles`."""
    if actor.role not in roles:
        raise PermissionDenied(f"Your role ({actor.role}) cannot {doing}.")


def require_editable(partnership: Partnership) -> None:
    """Raise Conflict unless the partnership's stage allows editing its content."""
    state = get_workflow(partnership.workflow_key).state(partnership.stage)
    if not state.editable:
        raise Conflict(
            f"{partnership.reference} is in stage '{state.label}' and cannot be edited. "
            "Reopen it first."
        )
