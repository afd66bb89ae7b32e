"""Keyboard only: log in and advance a partnership one step without touching the mouse.

Focus moves with Tab, links follow with Enter, buttons press with Space or Enter. Every
element the keyboard lands on must show a visible focus indicator.
"""

from __future__ import annotations

import re

from tests.browser.ui import expect

MAX_TABS = 120

# Whether the focused element draws a focus indicator (outline or box-shadow).
FOCUS_VISIBLE = """el => {
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  return outline || (s.boxShadow && s.boxShadow !== 'none');
}"""


def tab_to(page, target, *, limit: int = MAX_TABS) -> int:
    """Press Tab until `target` (a locator) has the focus; return how many presses it took.
    Fails when it is not reachable, or when an element on the way shows no focus indicator."""
    target.wait_for()
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        if focused.count():
            described = focused.evaluate(
                "el => `${el.tagName.toLowerCase()} \"${(el.innerText || el.value || "
                "el.name || '').trim().slice(0, 40)}\"`")
            assert focused.evaluate(FOCUS_VISIBLE), f"no visible focus indicator on {described}"
        if target.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"{target} not reached with {limit} Tab presses")


def test_keyboard_only_login_and_advance(page, shot, world):
    eu, cn = world.org("NO", "cluster"), world.org("CN", "sme")
    coordinator, legal = world.user("coordinator", eu), world.user("legal")
    pid, reference = world.partnership(coordinator, legal, eu, cn, stage="draft")

    page.goto("/login")
    # The first Tab lands on the skip link, which becomes visible and moves focus to <main>.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(coordinator.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(coordinator.password)
    shot("keyboard-login")
    page.keyboard.press("Enter")  # submits the form from the password field
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("status")).to_contain_text(f"Welcome, {coordinator.name}.")

    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Partnerships"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Partnerships")
    tab_to(page, page.get_by_role("link", name=reference, exact=True))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/partnerships/{pid}$"))
    expect(page.locator("ol.stages li[aria-current=step]")).to_have_text("Draft")
    shot("keyboard-detail-draft")

    button = page.get_by_role("button", name=re.compile(r"^Start due diligence to "))
    tab_to(page, button)
    page.keyboard.press("Space")
    expect(page.get_by_role("status")).to_contain_text("is now in stage 'Due diligence'")
    expect(page.locator("ol.stages li[aria-current=step]")).to_have_text("Due diligence")

    # One more, on the checklist: a "Mark done" button pressed with Enter.
    mark = page.get_by_role("button", name=re.compile(r"^Mark done\W+Counterpart identity"))
    tab_to(page, mark)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Due-diligence item saved.")
    expect(page.get_by_role("button", name=re.compile(r"^Reopen\W+Counterpart identity"))
           ).to_be_visible()
    shot("keyboard-detail-due-diligence")
