"""The clause library as published versions, and each partnership's chosen clauses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .types import JSONText, UTCDateTime, in_values, utcnow

DECISIONS = ("approve", "request_changes")
VISIBILITIES = ("internal", "partner")


class LibraryClauseVersion(Base):
    """One published version of a library clause; a changed text is a new version."""

    __tablename__ = "library_clause_versions"
    __table_args__ = (UniqueConstraint("clause_key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_key: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    sort_order: Mapped[int] = mapped_column(Integer)
    # The whole clause (options, texts, variables, applies_to, defaults) as plain data.
    # Deferred: versions never change, so readers use the per-process caches keyed by
    # (id, content_hash) in workflow.clauses and contracts.publish, and load it only once.
    data: Mapped[dict] = mapped_column(JSONText, deferred=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgreementClause(Base):
    """A partnership's choice for one clause, pinned to the library version it was drafted
    with. `revision` grows with every change, which makes earlier reviews stale."""

    __tablename__ = "agreement_clauses"
    __table_args__ = (
        UniqueConstraint("partnership_id", "clause_key"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    clause_key: Mapped[str] = mapped_column(String(60))
    library_version_id: Mapped[int] = mapped_column(
        ForeignKey("library_clause_versions.id", ondelete="RESTRICT")
    )
    option_key: Mapped[str] = mapped_column(String(60))
    values: Mapped[dict] = mapped_column(JSONText, default=dict)
    override_text: Mapped[str | None] = mapped_column(Text)
    included: Mapped[bool] = mapped_column(Boolean, default=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    library_version: Mapped[LibraryClauseVersion] = relationship(lazy="selectin")
    # Reviews come with their clauses in one extra query (the approve guard reads them all).
    reviews: Mapped[list[ClauseReview]] = relationship(
        back_populates="clause", cascade="all, delete-orphan", order_by="ClauseReview.id",
        lazy="selectin",
    )

    @property
    def data(self) -> dict:
        return self.library_version.data

    @property
    def sort_order(self) -> int:
        return self.library_version.sort_order


class ClauseReview(Base):
    """A legal advisor's decision on one revision of a clause."""

    __tablename__ = "clause_reviews"
    __table_args__ = (
        CheckConstraint(in_values("decision", DECISIONS), name="decision_valid"),
        CheckConstraint(in_values("visibility", VISIBILITIES), name="visibility_valid"),
        CheckConstraint(
            "decision = 'approve' OR comment IS NOT NULL", name="changes_need_comment"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_clause_id: Mapped[int] = mapped_column(
        ForeignKey("agreement_clauses.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(10), default="internal")
    clause_revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clause: Mapped[AgreementClause] = relationship(back_populates="reviews")
    reviewer = relationship("User")


class Comment(Base):
    """A comment on a partnership (optionally on one clause); partners never see internal ones."""

    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint(in_values("visibility", VISIBILITIES), name="visibility_valid"),
        Index("ix_comments_partnership_id_id", "partnership_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))
    clause_key: Mapped[str | None] = mapped_column(String(60))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User")
