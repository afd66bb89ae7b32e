"""The whole journey in Chromium, every step through the pages a person would use.

A coordinator drafts a partnership between an Italian cluster and a Chinese SME, a legal
advisor sends one clause back, approves the rest and the agreement, the Chinese partner signs the
issued PDF with pyHanko (what their PAdES tool would do) and uploads it, the coordinator records
the Italian party's wet-ink scan and completes: the partnership is active.
"""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor

from tests.browser.ui import advance, blocked_reasons, current_stage, expect, flash, login, logout

CONFIDENTIALITY = "Confidentiality"
NNN = "NNN: non-use, non-disclosure, non-circumvention"
REVIEW_COMMENT = "Add liquidated damages: loss from misuse will be hard to prove in CN courts."

# A one-page PDF standing in for the scan of the ink-signed original.
SCAN = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def clause_article(page, title: str):
    """A clause's section of the review page, found by its heading."""
    return page.locator("article.clause-review").filter(
        has=page.get_by_role("heading", name=re.compile(rf"^{re.escape(title)}\b")))


def open_detail(page, reference: str) -> None:
    """From anywhere: Partnerships in the main navigation, then the partnership's reference."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Partnerships").click()
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.locator("header.page-header .reference")).to_contain_text(reference)


def test_whole_journey(page, shot, world):
    eu = world.org("IT", "cluster")
    cn = world.org("CN", "sme")
    coordinator = world.user("coordinator", eu, name="Giulia Bertoletti")
    legal = world.user("legal", name="Ingrid Solberg")
    partner = world.user("partner", cn, name="Chen Jing")

    # --- the coordinator drafts the partnership -------------------------------------------
    login(page, coordinator)
    shot("coordinator-dashboard")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New partnership").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New partnership")
    page.get_by_label("Title").fill("Point-of-care diagnostics co-development")
    page.get_by_label("Agreement type").select_option(label="Collaboration agreement")
    page.get_by_label("Sector").fill("diagnostics")
    page.get_by_label("Start date").fill("2026-09-01")
    page.get_by_label("End date").fill("2029-08-31")
    page.get_by_label("Lead party (EU cluster or member)").select_option(label=f"{eu.name} (IT)")
    page.get_by_label("Counterpart").select_option(label=f"{cn.name} (CN)")
    shot("new-partnership")
    page.get_by_role("button", name="Create partnership").click()
    flash(page, "created.")
    reference = re.search(r"(CP-\d{4}-\d+) created\.",
                          page.locator(".flashes").inner_text()).group(1)
    partnership_id = int(re.search(r"/partnerships/(\d+)$", page.url).group(1))
    expect(current_stage(page)).to_have_text("Draft")
    expect(page.get_by_role("button", name=re.compile("^Start due diligence"))).to_be_disabled()
    reasons = blocked_reasons(page, "Start due diligence")
    assert f"{cn.name}: signatory name, title and email are required." in reasons, reasons
    shot("detail-draft")

    signatories = {eu: ("Elena Conti", "Director", "elena.conti@example.org"),
                   cn: ("Li Wei", "CEO", "li.wei@example.cn")}
    for org, (name, title, email) in signatories.items():
        page.get_by_role("link", name=f"Edit {org.name}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(org.name)
        page.get_by_label("Signatory name").fill(name)
        page.get_by_label("Signatory title").fill(title)
        page.get_by_label("Signatory email").fill(email)
        if org is eu:
            shot("party-edit")
        page.get_by_role("button", name="Save party").click()
        flash(page, "Party saved.")
        expect(page.locator("#parties")).to_contain_text(f"{name}, {title}")
    advance(page, "Start due diligence", "Due diligence")

    # --- due diligence: the checklist, background IP ----------------------------------------
    reasons = blocked_reasons(page, "Start negotiation")
    assert sum(r.startswith("Due diligence: ") for r in reasons) == 3, reasons
    assert any(r.startswith(f"{cn.name} (China) has not declared") for r in reasons), reasons
    mark_done = page.get_by_role("button", name=re.compile("^Mark done"))
    expect(mark_done).to_have_count(3)
    for _ in range(3):
        mark_done.first.click()
        flash(page, "Due-diligence item saved.")
    expect(mark_done).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Reopen"))).to_have_count(3)

    page.get_by_role("link", name=f"Add an asset for {eu.name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Add background IP of {eu.name}")
    page.get_by_label("Title").fill("Microfluidic sample-preparation cartridge")
    page.get_by_label("Type").select_option(label="Patent")
    page.get_by_label("Identifiers (e.g. filing or registration numbers)").fill("EP 3 912 345 B1")
    page.get_by_label("Jurisdictions").fill("EP, US, CN")
    page.get_by_label("Restrictions").fill("No access for military end uses.")
    page.get_by_label("Access terms for implementation").fill("Royalty-free")
    page.get_by_label("Access terms for exploitation").fill("Fair and reasonable conditions")
    shot("asset-form")
    page.get_by_role("button", name="Save asset").click()
    flash(page, "Background-IP asset added.")
    expect(page.locator("#register")).to_contain_text("Microfluidic sample-preparation cartridge")
    # The counterpart brings no background IP: an explicit "none" counts as a declaration.
    cn_row = page.locator("#parties tbody tr").filter(has_text=cn.name)
    cn_row.get_by_role("button", name="Declare none").click()
    flash(page, "Background-IP declaration saved.")
    expect(cn_row).to_contain_text("declared none")
    shot("detail-due-diligence")
    advance(page, "Start negotiation", "Negotiation")

    # --- negotiation: the safeguard for China needs the NNN confidentiality option ----------
    reasons = blocked_reasons(page, "Submit for legal review")
    assert any("NNN" in r for r in reasons), reasons
    page.locator("#clauses").get_by_role("link", name=CONFIDENTIALITY, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CONFIDENTIALITY)
    expect(page.locator(".guidance")).to_contain_text("China")
    nnn = page.locator(".option").filter(has=page.get_by_role("radio", name=re.compile("^NNN")))
    nnn.get_by_role("radio").check()
    nnn.get_by_text("Values for this option").click()  # expand the option's values
    nnn.get_by_label("Counterpart's language for the signed translation").fill(
        "Simplified Chinese")
    shot("clause-confidentiality")
    page.get_by_role("button", name="Save clause").click()
    flash(page, f"{CONFIDENTIALITY} saved.")
    conf_row = page.locator("#clauses tbody tr").filter(has_text=CONFIDENTIALITY)
    expect(conf_row).to_contain_text(NNN)
    shot("detail-negotiation")
    advance(page, "Submit for legal review", "Legal review")
    logout(page)

    # --- legal review: changes requested on one clause --------------------------------------
    login(page, legal)
    shot("legal-dashboard")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    queue_row = page.get_by_role("row").filter(has_text=reference)
    expect(queue_row).to_contain_text(cn.name)
    shot("review-queue")
    queue_row.get_by_role("link", name=reference).click()
    expect(page).to_have_url(re.compile(rf"/partnerships/{partnership_id}/review$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Legal review")
    shot("review-page")
    conf = clause_article(page, CONFIDENTIALITY)
    conf.get_by_role("radio", name="Request changes").check()
    conf.get_by_label("Comment (required when requesting changes)").fill(REVIEW_COMMENT)
    conf.get_by_role("button", name="Record decision").click()
    flash(page, f"{CONFIDENTIALITY}: changes requested.")
    expect(clause_article(page, CONFIDENTIALITY)).to_contain_text(REVIEW_COMMENT)
    page.get_by_role("link", name=f"← {reference}").click()
    page.get_by_label("Comment for “Request changes” (required)").fill(
        "Confidentiality needs liquidated damages; see the clause review.")
    advance(page, "Request changes", "Negotiation")
    logout(page)

    # --- the coordinator fixes the clause and resubmits -------------------------------------
    login(page, coordinator)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Partnerships").click()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Negotiation")
    expect(row).to_contain_text(f"{cn.name} (CN)")
    shot("partnerships-list")
    row.get_by_role("link", name=reference).click()
    page.get_by_role("link", name="Clause review").click()
    expect(clause_article(page, CONFIDENTIALITY)).to_contain_text(REVIEW_COMMENT)
    page.get_by_role("link", name=f"← {reference}").click()
    page.locator("#clauses").get_by_role("link", name=CONFIDENTIALITY, exact=True).click()
    page.get_by_label("Liquidated damages per breach (EUR)").fill("50000")
    page.get_by_role("button", name="Save clause").click()
    flash(page, f"{CONFIDENTIALITY} saved.")
    advance(page, "Submit for legal review", "Legal review")
    logout(page)

    # --- the legal advisor approves every clause, then the agreement ------------------------
    login(page, legal)
    open_detail(page, reference)
    approve_button = page.get_by_role("button", name=re.compile("^Approve agreement"))
    expect(approve_button).to_be_disabled()
    page.get_by_role("link", name="Clause review").click()
    clause_ids = page.locator("article.clause-review").evaluate_all(
        "articles => articles.map(a => a.id)")
    assert "clause-confidentiality" in clause_ids
    for clause_id in clause_ids:
        article = page.locator(f"article#{clause_id}")
        article.get_by_role("radio", name="Approve").check()
        article.get_by_role("button", name="Record decision").click()
        flash(page, ": approved.")
        expect(page.locator(f"article#{clause_id} .badge")).to_have_text("approved")
    shot("review-all-approved")
    page.get_by_role("link", name=f"← {reference}").click()
    advance(page, "Approve agreement", "Approved")
    issued_link = page.get_by_role("link", name=re.compile(r"^Download the issued agreement"))
    expect(issued_link).to_be_visible()
    shot("detail-approved")
    logout(page)

    # --- the coordinator sends it for signature ---------------------------------------------
    login(page, coordinator)
    open_detail(page, reference)
    advance(page, "Send for signature", "Signing")
    shot("detail-signing-coordinator")
    logout(page)

    # --- the Chinese partner downloads, signs with pyHanko and uploads ----------------------
    login(page, partner)
    expect(page.get_by_role("link", name=reference)).to_be_visible()  # on the dashboard
    shot("partner-dashboard")
    open_detail(page, reference)
    expect(current_stage(page)).to_have_text("Signing")
    expect(page.locator("ul.actions button")).to_have_count(0)  # no transitions
    shot("detail-signing-partner")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"^Download the issued agreement")).click()
    download = info.value
    issued = download.path().read_bytes()
    assert issued.startswith(b"%PDF"), issued[:20]
    digest = hashlib.sha256(issued).hexdigest()
    issued_row = page.locator("#documents tbody tr").filter(has_text="(issued)")
    shown = issued_row.locator("code.hash").text_content()
    assert shown == digest, (digest, shown)

    from contracts.signing import make_certificate, sign_field, signer_from_objects

    key, cert = make_certificate("Li Wei", organisation=cn.name)
    field = f"Signature_Party_{world.party_id(partnership_id, cn)}"
    # pyHanko's synchronous API runs its own event loop, and Playwright's sync API owns this
    # thread's loop: sign in a worker thread, as a separate signing tool would.
    with ThreadPoolExecutor(max_workers=1) as pool:
        signed = pool.submit(sign_field, issued, field, signer_from_objects(key, cert),
                             reason="Signed for the counterpart").result()
    assert signed.startswith(issued)

    page.get_by_role("link", name="Upload a signed copy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload a signed copy")
    shot("upload")
    page.get_by_label("Signed PDF").set_input_files(files=[{
        "name": f"{reference}-signed-CN.pdf", "mimeType": "application/pdf", "buffer": signed}])
    page.get_by_role("button", name="Upload and verify").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Signed copy: accepted")
    expect(page.locator("dd code")).to_have_text(hashlib.sha256(signed).hexdigest())
    expect(page.get_by_role("row").filter(has_text=field)).to_contain_text("Li Wei")
    shot("upload-result")
    logout(page)

    # --- the coordinator records the Italian party's wet-ink scan and completes -------------
    login(page, coordinator)
    open_detail(page, reference)
    signatures = page.locator("#documents li")
    expect(signatures.filter(has_text=cn.name)).to_contain_text("digitally signed by")
    eu_line = signatures.filter(has_text=eu.name)
    expect(eu_line).to_contain_text("not signed yet")
    expect(page.get_by_role("button", name=re.compile("^Complete"))).to_be_disabled()
    eu_line.get_by_role("link", name="record a wet-ink scan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Record a wet-ink signature of {eu.name}")
    page.get_by_label("Scanned signed copy (PDF or image)").set_input_files(files=[{
        "name": "signed-scan-IT.pdf", "mimeType": "application/pdf", "buffer": SCAN}])
    page.get_by_label(re.compile("^Attestation note")).fill(
        "Signed in ink by Elena Conti in Turin; original received by courier.")
    shot("wet-ink")
    page.get_by_role("button", name="Record attested scan").click()
    flash(page, "recorded as an attested scan.")
    expect(page.locator("#documents li").filter(has_text=eu.name)).to_contain_text(
        f"scan, attested by {coordinator.name}")
    advance(page, "Complete (all signed)", "Active")
    expect(page.locator("header.page-header .badge")).to_have_text("Active")
    expect(page.locator("#history")).to_contain_text("complete: signing → active")
    shot("detail-active")


def test_agreement_preview(page, shot, world):
    """The HTML preview of the agreement, with its print stylesheet and bundled fonts."""
    eu, cn = world.org("IT", "cluster"), world.org("CN", "sme")
    coordinator, legal = world.user("coordinator", eu), world.user("legal")
    pid, reference = world.partnership(coordinator, legal, eu, cn, stage="negotiation")
    login(page, coordinator)
    open_detail(page, reference)
    page.get_by_role("link", name="Preview the agreement").click()
    expect(page).to_have_url(re.compile(rf"/partnerships/{pid}/preview$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Test partnership")
    expect(page.locator("body")).to_contain_text(reference)
    expect(page.locator("body")).to_contain_text("Confidential Information")
    page.evaluate("document.fonts.ready")
    shot("agreement-preview")
