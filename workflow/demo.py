"""Demo data that looks like the field: real EU clusters, invented counterparts.

Every object is created through the services, so the demo has a real audit trail.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .clauses import spec_of
from .models import Organisation, utcnow
from .roles import SYSTEM_ACTOR
from .services import organisations as orgs
from .services import partnerships as ps
from .services import users
from .services.background import AssetInput, add_asset
from .services.clauses import set_clause
from .services.review import review_clause
from .services.transitions import advance

# (name, city, country, kind): the clusters are real and public; the rest is invented.
ORGANISATIONS = [
    ("bioPmed", "Turin", "IT", "cluster"),
    ("Lyonbiopole", "Lyon", "FR", "cluster"),
    ("Norway Health Tech", "Oslo", "NO", "cluster"),
    ("LITEK - Science and Technology Park of the Institute of Physics", "Vilnius", "LT",
     "cluster"),
    ("Biocat", "Barcelona", "ES", "cluster"),
    ("Valsesia Diagnostica S.r.l.", "Turin", "IT", "sme"),
    ("Photonique Rhône SAS", "Lyon", "FR", "sme"),
    ("Baltic Laser Instruments UAB", "Vilnius", "LT", "sme"),
    ("Shenzhen Qianhai Meditech Co., Ltd.", "Shenzhen", "CN", "sme"),
    ("Suzhou Lumina Optics Co., Ltd.", "Suzhou", "CN", "sme"),
    ("Pune Sanjeevani Diagnostics Pvt. Ltd.", "Pune", "IN", "sme"),
    ("Campinas Fotônica Ltda.", "Campinas", "BR", "sme"),
    ("Monterrey Salud Digital S.A. de C.V.", "Monterrey", "MX", "sme"),
    ("Cascade Bioinstruments Inc.", "Seattle", "US", "sme"),
    ("Tsukuba Precision Imaging K.K.", "Tsukuba", "JP", "sme"),
    ("Waterloo CareGrid Inc.", "Waterloo", "CA", "sme"),
    ("Daejeon BioSensing Co., Ltd.", "Daejeon", "KR", "sme"),
]

# (email, name, role, organisation name or None)
USERS = [
    ("coordinator@biopmed.example", "Giulia Bertoletti", "coordinator", "bioPmed"),
    ("coordinator@lyonbiopole.example", "Thomas Girard", "coordinator", "Lyonbiopole"),
    ("legal@clusterpact.example", "Ingrid Solberg", "legal", "Norway Health Tech"),
    ("legal2@clusterpact.example", "Marta Puig", "legal", "Biocat"),
    ("partner@qianhai-meditech.example", "Chen Jing", "partner",
     "Shenzhen Qianhai Meditech Co., Ltd."),
    ("partner@sanjeevani.example", "Ananya Kulkarni", "partner",
     "Pune Sanjeevani Diagnostics Pvt. Ltd."),
    ("admin@clusterpact.example", "Platform Administrator", "admin", None),
]

# (title, agreement type, lead org, counterpart org, sector, target stage)
PARTNERSHIPS = [
    ("MAGIA point-of-care diagnostics co-development", "collaboration", "bioPmed",
     "Shenzhen Qianhai Meditech Co., Ltd.", "diagnostics", "negotiation"),
    ("LASER-Go Global photonics sensor pilot", "collaboration", "LITEK - Science and "
     "Technology Park of the Institute of Physics", "Suzhou Lumina Optics Co., Ltd.",
     "photonics", "due_diligence"),
    ("CROSS4HEALTH remote monitoring validation", "collaboration", "Norway Health Tech",
     "Pune Sanjeevani Diagnostics Pvt. Ltd.", "digital health", "legal_review"),
    ("INNOLABS wearable ECG market entry", "collaboration", "Lyonbiopole",
     "Campinas Fotônica Ltda.", "medical devices", "draft"),
    ("Biocat tele-rehabilitation platform", "collaboration", "Biocat",
     "Monterrey Salud Digital S.A. de C.V.", "digital health", "approved"),
    ("Microfluidic cartridge evaluation NDA", "nda", "bioPmed",
     "Cascade Bioinstruments Inc.", "diagnostics", "signing"),
    ("Optical coherence imaging NNN", "nnn", "Lyonbiopole",
     "Tsukuba Precision Imaging K.K.", "photonics", "active"),
    ("Hospital logistics data pilot", "collaboration", "Norway Health Tech",
     "Waterloo CareGrid Inc.", "digital health", "withdrawn"),
    ("Biosensor reagent supply NDA", "nda", "Biocat",
     "Daejeon BioSensing Co., Ltd.", "diagnostics", "legal_review"),
    # Active: its IPR clocks run, and a notified publication waits for objections.
    ("Laser spectroscopy biosensor co-development", "collaboration",
     "Baltic Laser Instruments UAB", "Daejeon BioSensing Co., Ltd.", "photonics", "active"),
]

ASSETS = [
    ("Microfluidic sample-preparation cartridge", "patent", "EP 3 912 345 B1"),
    ("Assay calibration know-how", "know_how", ""),
]

# The triggers that take each workflow from its initial stage to a target stage.
PATHS = {
    "cluster_partnership": ["start_due_diligence", "start_negotiation", "submit_for_review",
                            "approve", "send_for_signature", "complete"],
    "nda": ["submit_for_review", "approve", "send_for_signature", "complete"],
}
LEGAL_TRIGGERS = {"approve"}


def is_seeded(session: Session) -> bool:
    """Tell whether any organisation exists (demo data is loaded only into an empty database)."""
    return bool(session.scalar(select(func.count()).select_from(Organisation)))


def seed(session: Session) -> list[tuple[str, str, str]]:
    """Load the demo; return (email, role, password) of the demo users."""
    org_ids = {
        name: orgs.create_organisation(session, SYSTEM_ACTOR, name, country, kind, city).id
        for name, city, country, kind in ORGANISATIONS
    }
    logins, people = [], {}
    for email, name, role, org in USERS:
        password = secrets.token_urlsafe(12)
        user = users.create_user(session, SYSTEM_ACTOR, email, name, role, password,
                                 org_ids.get(org) if org else None)
        people[email] = user
        logins.append((email, role, password))
    coordinators = [u for u in people.values() if u.role == "coordinator"]
    legal = next(u for u in people.values() if u.role == "legal")
    today = utcnow().date()
    for i, (title, kind, lead, counterpart, sector, target) in enumerate(PARTNERSHIPS):
        owner = coordinators[i % len(coordinators)]
        p = ps.create_partnership(
            session, owner, title, kind,
            [_party(org_ids[lead], "lead", lead), _party(org_ids[counterpart], "counterpart",
                                                         counterpart)],
            sector=sector, start_date=today - timedelta(days=30 * i),
            end_date=date(today.year + 3, 12, 31),
        )
        _walk(session, p, owner, legal, target)
        if target == "active" and kind == "collaboration":
            _notify_publication(session, owner, p.id, today)
    return logins


def _notify_publication(session: Session, owner, partnership_id: int, today: date) -> None:
    """The lead party gives notice of a paper (the clause asks for 45 days' notice)."""
    from .models import Party
    from .services.publications import register_publication

    lead = session.scalar(select(Party.id).where(Party.partnership_id == partnership_id,
                                                 Party.role == "lead"))
    register_publication(session, owner, partnership_id, lead,
                         "Tunable diode laser absorption sensing of breath biomarkers",
                         today + timedelta(days=60), venue="Biosensors and Bioelectronics")


def _party(org_id: int, role: str, org_name: str) -> ps.PartyInput:
    first = org_name.split()[0].lower().strip(",.")
    names = {"lead": ("Elena Conti", "Cluster Manager"), "counterpart": ("Li Wei", "CEO")}
    signatory, title = names[role]
    return ps.PartyInput(org_id, role, signatory, title, f"signatory@{first}.example")


# The language a bilingual agreement adds, by the counterpart's country (the demo's ones).
LANGUAGES = {"CN": "Chinese (Simplified)", "IN": "Hindi", "BR": "Portuguese", "MX": "Spanish",
             "JP": "Japanese", "KR": "Korean"}


def make_compliant(session, owner, p):
    """Choose the options the Priority Watch List safeguards require (NNN confidentiality)
    and fill the values the defaults leave open (a bilingual agreement's second language is
    the counterpart's)."""
    for clause in list(p.clauses):
        spec = spec_of(clause.library_version)
        if clause.clause_key == "confidentiality" and clause.option_key != "nnn":
            option = spec.option("nnn")
            set_clause(session, owner, p.id, "confidentiality", "nnn", option.default_values())
        elif clause.clause_key == "language" and clause.option_key == "bilingual":
            country = next((x.organisation.country for x in p.parties
                            if x.role == "counterpart"), None)
            if country in LANGUAGES:
                values = {**(clause.values or {}), "second_language": LANGUAGES[country]}
                set_clause(session, owner, p.id, "language", "bilingual", values)
            else:  # an English-speaking counterpart: one version, in English
                set_clause(session, owner, p.id, "language", "english",
                           spec.option("english").default_values())


def approve_all_clauses(session, legal, p):
    """A legal advisor approves every included clause."""
    for clause in list(p.clauses):
        if clause.included:
            review_clause(session, legal, p.id, clause.clause_key, "approve")



# A one-page PDF standing in for a scanned, wet-ink-signed copy in demo data and tests.
SCAN_PLACEHOLDER = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def attest_wet_ink_for_all(session: Session, coordinator, p) -> None:
    """Record an attested wet-ink scan for every party (demo data and tests)."""
    from .services.documents import record_wet_ink

    for party in list(p.parties):
        record_wet_ink(session, coordinator, p.id, party.id, SCAN_PLACEHOLDER,
                       f"{p.reference}-{party.id}-scan.pdf",
                       "Original signed in ink and received by courier; scan checked "
                       "against the issued version.")


def _walk(session: Session, p, owner, legal, target: str) -> None:
    """Advance `p` along its workflow's main path until it reaches `target`."""
    if target == "withdrawn":
        advance(session, p.id, "withdraw", owner, comment="Counterpart chose another cluster.")
        return
    for trigger in PATHS[p.workflow_key]:
        if p.stage == target:
            return
        if trigger == "start_negotiation":
            for item in list(p.checks):
                ps.set_check(session, owner, p.id, item.item_key, True, "Checked for the demo.")
            lead, other = p.parties[0], p.parties[1]
            for title, kind, ids in ASSETS:
                add_asset(session, owner, p.id, lead.id, AssetInput(
                    title, kind, ids, "EP, US, CN", access_implementation="Royalty-free",
                    access_exploitation="Fair and reasonable conditions"))
            ps.declare_no_background_ip(session, owner, p.id, other.id)
        elif trigger == "submit_for_review":
            make_compliant(session, owner, p)
        elif trigger == "approve":
            approve_all_clauses(session, legal, p)
        elif trigger == "complete":
            attest_wet_ink_for_all(session, owner, p)
        actor = legal if trigger in LEGAL_TRIGGERS else owner
        p = advance(session, p.id, trigger, actor)
