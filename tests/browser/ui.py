"""Page helpers shared by the browser tests: accessible selectors only (labels, roles, names)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

try:
    from playwright.sync_api import expect
except ImportError:  # conftest.py then skips every browser test (or fails them in CI)
    expect = None

from tests.auth_helpers import authenticator, remember

if TYPE_CHECKING:
    from playwright.sync_api import Page


def login(page: Page, person) -> None:
    """Log in through the login form and land on the dashboard: answer the second-factor
    step with the person's authenticator app, or set one up first when their role requires
    it and they have none yet."""
    page.goto("/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/(dashboard|login/code|account/two-factor)$"))
    if page.url.endswith("/login/code"):
        page.get_by_label("Code").fill(authenticator(person.email).code())
        page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_contain_text(f"Welcome, {person.name}.")
    if page.url.endswith("/account/two-factor"):
        set_up_second_factor(page, person)
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def set_up_second_factor(page: Page, person) -> list[str]:
    """Go through the set-up pages with a new authenticator app; the recovery codes."""
    page.get_by_role("button", name="Set up two-factor authentication").click()
    secret = page.locator("#totp-secret").inner_text()
    app = remember(person.email, secret)
    page.get_by_label("Code from your app").fill(app.code())
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    page.get_by_role("link", name="I have saved them, continue").click()
    return codes


def logout(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("You have been logged out.")


def flash(page: Page, text: str) -> None:
    """The flash message area (role=status) says `text`."""
    expect(page.locator(".flashes[role=status]")).to_contain_text(text)


def transition_button(page: Page, label: str):
    """The action button of a workflow transition ("<label> to <destination>")."""
    return page.get_by_role("button", name=re.compile(rf"^{re.escape(label)} to "))


def advance(page: Page, label: str, stage: str) -> None:
    """Press an allowed transition's button and check the new stage."""
    button = transition_button(page, label)
    expect(button).to_be_enabled()
    button.click()
    flash(page, f"is now in stage '{stage}'")
    expect(current_stage(page)).to_have_text(stage)


def current_stage(page: Page):
    """The highlighted step of the workflow diagram (aria-current=step)."""
    return page.locator("ol.stages li[aria-current=step]")


def blocked_reasons(page: Page, label: str) -> list[str]:
    """The reasons shown under a blocked transition button (its aria-describedby list)."""
    button = transition_button(page, label)
    described = button.get_attribute("aria-describedby")
    if not described:
        return []
    return page.locator(f"#{described} li").all_inner_texts()
