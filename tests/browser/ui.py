"""Page helpers shared by the browser tests: accessible selectors only (labels, roles, names)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

try:
    from playwright.sync_api import expect
except ImportError:  # conftest.py then skips every browser test (or fails them in CI)
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Page


def login(page: Page, person) -> None:
    """Log in through the login form and land on the dashboard."""
    page.goto("/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status")).to_contain_text(f"Welcome, {person.name}.")
    expect(page).to_have_url(re.compile(r"/dashboard$"))


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
