"""Persistent domain objects (plain SQLAlchemy 2.x, no Flask), one module per area."""

from .audit_chain import AuditChainHead
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
from .notifications import Notification, NotificationPreference
from .obligations import CalendarFeed, Obligation, Publication, PublicationObjection
from .risk import CountryRisk, RiskTier, SafeguardRule, SafeguardWaiver
from .second_factor import RecoveryCode
from .tokens import ApiToken, AuthThrottle
from .types import JSONText, UTCDateTime, utcnow

__all__ = [
    "AgreementClause", "ApiToken", "AuditChainHead", "AuditEvent", "AuthThrottle",
    "BackgroundAsset",
    "ClauseReview", "Comment", "CountryRisk", "Document", "DocumentBlob", "DueDiligenceCheck",
    "JSONText",
    "LibraryClauseVersion", "Notification", "NotificationPreference",
    "Organisation", "Partnership", "Party", "ReferenceCounter",
    "RecoveryCode", "RenderCache", "RiskTier", "SafeguardRule", "SafeguardWaiver", "Signature",
    "UTCDateTime", "User", "utcnow",
    "CalendarFeed", "Obligation", "Publication", "PublicationObjection",
]
