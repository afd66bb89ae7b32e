"""Persistent domain objects (plain SQLAlchemy 2.x, no Flask), one module per area."""

from .clauses import AgreementClause, ClauseReview, Comment, LibraryClauseVersion
from .core import (
    AuditEvent,
    BackgroundAsset,
    DueDiligenceCheck,
    Organisation,
    Partnership,
    Party,
    ReferenceCounter,
    User,
)
from .documents import Document, DocumentBlob, RenderCache, Signature
from .risk import CountryRisk, RiskTier, SafeguardRule, SafeguardWaiver
from .tokens import ApiToken, AuthThrottle
from .types import JSONText, UTCDateTime, utcnow

__all__ = [
    "AgreementClause", "ApiToken", "AuditEvent", "AuthThrottle", "BackgroundAsset",
    "ClauseReview", "Comment", "CountryRisk", "Document", "DocumentBlob", "DueDiligenceCheck",
    "JSONText",
    "LibraryClauseVersion", "Organisation", "Partnership", "Party", "ReferenceCounter",
    "RenderCache", "RiskTier", "SafeguardRule", "SafeguardWaiver", "Signature",
    "UTCDateTime", "User", "utcnow",
]
