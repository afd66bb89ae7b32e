"""Agreement documents (issued PDFs, signed copies, evidence reports) and signatures.

Documents live in the database, so every app instance behind a load balancer serves the same
bytes; the content sits in its own table so listings never load it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .types import JSONText, UTCDateTime, in_values, utcnow

DOCUMENT_KINDS = ("issued", "signed_copy", "wet_ink_scan", "evidence")
DOCUMENT_STATUSES = ("current", "superseded", "accepted", "manual_review", "rejected")
SIGNATURE_KINDS = ("digital", "wet_ink")


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(in_values("kind", DOCUMENT_KINDS), name="kind_valid"),
        CheckConstraint(in_values("status", DOCUMENT_STATUSES), name="status_valid"),
        UniqueConstraint("partnership_id", "kind", "version"),
        Index("ix_documents_partnership_id_kind", "partnership_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    # Issued: 1, 2, ... per partnership; other kinds count on their own.
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    # For a signed copy: the issued document it claims to be a copy of.
    issued_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="RESTRICT"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSONText)

    blob: Mapped[DocumentBlob] = relationship(cascade="all, delete-orphan", uselist=False)
    created_by = relationship("User")


class DocumentBlob(Base):
    __tablename__ = "document_blobs"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Signature(Base):
    """A party's signature on an issued document: digital (verified) or a wet-ink scan
    attested by a coordinator; never both presented as the same thing."""

    __tablename__ = "signatures"
    __table_args__ = (
        CheckConstraint(in_values("kind", SIGNATURE_KINDS), name="kind_valid"),
        CheckConstraint("kind = 'digital' OR attested_by_id IS NOT NULL",
                        name="wet_ink_attested"),
        Index("ix_signatures_issued_document_id_party_id", "issued_document_id", "party_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    issued_document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="RESTRICT"))
    source_document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(10))
    field_name: Mapped[str | None] = mapped_column(String(100))
    signer_subject: Mapped[str | None] = mapped_column(Text)
    certificate_sha256: Mapped[str | None] = mapped_column(String(64))
    signing_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    intact: Mapped[bool] = mapped_column(Boolean, default=False)
    valid: Mapped[bool] = mapped_column(Boolean, default=False)
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    modification_level: Mapped[str | None] = mapped_column(String(40))
    attested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attested_by = relationship("User")


class RenderCache(Base):
    """Rendered PDFs keyed by the hash of everything that determines their bytes, shared by
    every instance: drafts are never rendered twice, and the issued PDF's layout is done
    when the content settles, not while the approver waits."""

    __tablename__ = "render_cache"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    pages: Mapped[int] = mapped_column(Integer)
    layout: Mapped[dict | None] = mapped_column(JSONText)  # e.g. signature box positions
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
