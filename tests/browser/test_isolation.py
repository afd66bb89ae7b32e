"""A partner of another organisation sees none of a partnership: not in the list, 404 on its
page, its sub-pages and its PDF. A partner of a party organisation, as control, sees it."""

from __future__ import annotations

from tests.browser.ui import expect, login, logout


def test_partner_of_another_organisation_sees_nothing(page, shot, problems, world):
    eu, cn, other = world.org("FR", "cluster"), world.org("CN", "sme"), world.org("IN", "sme")
    coordinator, legal = world.user("coordinator", eu), world.user("legal")
    member = world.user("partner", cn)
    outsider = world.user("partner", other)
    pid, reference = world.partnership(coordinator, legal, eu, cn, stage="signing")
    title = "Test partnership"  # what tests.helpers.build_partnership names it

    # Control: the counterpart's partner sees the partnership and can fetch the issued PDF.
    login(page, member)
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    response = page.request.get(f"/partnerships/{pid}/agreement.pdf")
    assert response.status == 200 and response.body().startswith(b"%PDF")
    logout(page)

    login(page, outsider)
    expect(page.get_by_role("link", name=reference)).to_have_count(0)
    shot("outsider-dashboard")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Partnerships").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Partnerships")
    expect(page.get_by_text("No partnerships to show.")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(reference)
    shot("outsider-list")

    # Chromium logs every 404 document load as a console error; these 404s are the point.
    problems.allow(r"status of 404")
    for path in (f"/partnerships/{pid}", f"/partnerships/{pid}/agreement.pdf",
                 f"/partnerships/{pid}/review", f"/partnerships/{pid}/preview",
                 f"/partnerships/{pid}/signed-copies"):
        response = page.goto(path)
        assert response.status == 404, (path, response.status)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Not found")
        body = page.locator("body")
        expect(body).not_to_contain_text(reference)
        expect(body).not_to_contain_text(title)
        expect(body).not_to_contain_text(cn.name)
        if path.endswith("agreement.pdf"):
            assert "pdf" not in (response.headers.get("content-type") or "")
            shot("outsider-pdf-404")
        elif path == f"/partnerships/{pid}":
            shot("outsider-detail-404")
    # The same answer as for a partnership that does not exist: nothing to tell them apart.
    assert page.goto("/partnerships/999999").status == 404
