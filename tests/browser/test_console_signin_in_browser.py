"""The console's door in a real Chromium, with JavaScript on and off: enrolment, codes, recovery codes."""

import pytest
from playwright.sync_api import expect

from .signin import AGENT, app_code, enrol, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BOTH = pytest.mark.parametrize("checked", [True, False], indirect=True, ids=["js", "nojs"])


def heading(page, text: str):
    expect(page.locator("h1")).to_contain_text(text)


def sign_out(page):
    page.get_by_role("button", name=f"Sign out {AGENT}").click()
    heading(page, "Sign in to the support console")


@BOTH
def test_an_agent_enrols_then_signs_in_with_a_code_or_a_recovery_code_once(checked, agent):
    page = checked.page
    checked.goto("/console/")
    heading(page, "Sign in to the support console")
    checked.check("sign in")
    sign_in(page)

    heading(page, "Set up your authenticator app")
    qr = page.get_by_role("img", name="QR code that adds Portal Switch to your authenticator app")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert page.evaluate("(img) => img.naturalWidth", qr.element_handle()) > 100  # drawn, not blocked
    checked.check("enrol")
    key, step, recovery = enrol(page)
    assert len(recovery) == 10
    checked.check("recovery codes")
    page.get_by_role("link", name="I've saved them: continue").click()
    heading(page, "Recent setups")
    sign_out(page)

    sign_in(page)
    heading(page, "Type the code from your authenticator app")
    checked.check("code")
    code, step = app_code(key, after_step=step)
    page.get_by_label("Code, or one of your recovery codes").fill(code)
    page.get_by_role("button", name="Sign in").click()
    heading(page, "Recent setups")
    sign_out(page)

    sign_in(page)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page.get_by_label("Code, or one of your recovery codes").fill(wrong)
    page.get_by_role("button", name="Sign in").click()
    heading(page, "Type the code from your authenticator app")
    expect(page.locator(".error")).to_have_text("That didn't work. Check what you typed and try again.")
    checked.check("wrong code")
    page.get_by_label("Code, or one of your recovery codes").fill(recovery[0])
    page.get_by_role("button", name="Sign in").click()
    heading(page, "Recent setups")
    sign_out(page)

    sign_in(page)
    page.get_by_label("Code, or one of your recovery codes").fill(recovery[0])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".error")).to_have_text("That didn't work. Check what you typed and try again.")
    page.goto(checked.base_url + "/console/")
    heading(page, "Type the code from your authenticator app")  # still not in
