"""The evidence report (certificate of completion) issued when a partnership becomes active."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from workflow import queries
from workflow.countries import country_name
from workflow.services.documents import documents, signatures_for

from .preview import _env


@dataclass(frozen=True)
class EvidenceRow:
    label: str
    value: str


def evidence_data(session: Session, partnership) -> dict:
    """Plain data for the report: parties, documents, signatures, timeline."""
    docs = documents(session, partnership.id)
    issued = next((d for d in docs if d.kind == "issued" and d.status == "current"), None)
    signatures = signatures_for(session, issued) if issued else []
    parties = {p.id: p for p in partnership.parties}
    events = queries.history(session, partnership.id)
    return {
        "reference": partnership.reference, "title": partnership.title,
        "parties": [{"name": p.organisation.name, "country": country_name(p.organisation.country),
                     "role": p.role, "signatory": p.signatory_name or ""}
                    for p in partnership.parties],
        "documents": [{"kind": d.kind.replace("_", " "), "version": d.version,
                       "status": d.status.replace("_", " "), "sha256": d.sha256,
                       "created": d.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                       "filename": d.filename} for d in reversed(docs)],
        "signatures": [{
            "party": parties[s.party_id].organisation.name if s.party_id in parties else "?",
            "kind": ("digital signature" if s.kind == "digital" else
                     f"scan, attested by {s.attested_by.display_name}"),
            "subject": s.signer_subject or "", "fingerprint": s.certificate_sha256 or "",
            "time": s.signing_time.strftime("%Y-%m-%d %H:%M UTC") if s.signing_time else "",
            "summary": _summary(s)} for s in signatures],
        "events": [{"time": e.occurred_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                    "actor": e.actor.display_name if e.actor else e.actor_role,
                    "role": e.actor_role,
                    "action": (f"{e.trigger}: {e.from_stage} → {e.to_stage}"
                               if e.action == "transition" else e.action.replace("_", " "))}
                   for e in events],
        "chain_head": f"audit event #{events[-1].id}" if events else "",
    }


def _summary(s) -> str:
    if s.kind == "wet_ink":
        return "Wet-ink scan attested by a coordinator; not a digital signature."
    parts = ["intact" if s.intact else "NOT intact", "valid" if s.valid else "NOT valid",
             "chains to a trusted root" if s.trusted else "signer not in the trusted roots"]
    if s.modification_level:
        parts.append(f"changes after issue: {s.modification_level}")
    return ", ".join(parts)


def render_evidence(session: Session, partnership) -> bytes:
    """The certificate of completion as a PDF (bundled fonts and CSS only)."""
    from .pdf import render_html_pdf
    from .preview import PRINT_STYLESHEET_URL

    html = _env.get_template("evidence.html").render(
        e=evidence_data(session, partnership), stylesheet=PRINT_STYLESHEET_URL)
    return render_html_pdf(html, name="evidence.html")
