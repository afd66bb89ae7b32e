"""Two-factor authentication in Chromium: a legal advisor is held on the set-up page at their
first login, the QR code renders under the Content-Security-Policy (a data: image, no script),
and the next login asks for a code after the password."""

from __future__ import annotations

import re

from tests.auth_helpers import authenticator, remember
from tests.browser.ui import expect, flash, logout


def test_legal_sets_up_a_second_factor_and_logs_in_with_a_code(page, shot, problems, world):
    problems.allow(r"status of 422")  # Chromium logs the refused wrong code; that is the point
    legal = world.user("legal")
    page.goto("/login")
    page.get_by_label("Email").fill(legal.email)
    page.get_by_label("Password").fill(legal.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/account/two-factor$"))
    flash(page, "Your role requires two-factor authentication")
    page.goto("/partnerships/")  # nothing else is reachable yet
    expect(page).to_have_url(re.compile(r"/account/two-factor$"))
    shot("set-up-start")

    page.get_by_role("button", name="Set up two-factor authentication").click()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # CSP let it render
    assert page.locator("script").count() == 0
    shot("set-up-qr")
    app = remember(legal.email, page.locator("#totp-secret").inner_text())
    page.get_by_label("Code from your app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.locator("#code-error")).to_contain_text("not valid")
    page.get_by_label("Code from your app").fill(app.code())
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    shot("recovery-codes")
    page.get_by_role("link", name="I have saved them, continue").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    logout(page)

    page.get_by_label("Email").fill(legal.email)
    page.get_by_label("Password").fill(legal.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/login/code$"))
    shot("code-step")
    page.get_by_label("Code").fill(authenticator(legal.email).code())
    page.get_by_role("button", name="Verify").click()
    flash(page, f"Welcome, {legal.name}.")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
