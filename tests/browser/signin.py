"""Signing in to the console in a browser, as an agent does: password, then the authenticator app's code."""

import time
from base64 import b32decode

from django_otp.oath import TOTP
from playwright.sync_api import expect

AGENT, AGENT_PASSWORD = "agent-ann", "agent-pw-for-tests-only"  # tests/conftest.py's agent


def sign_in(page, username: str = AGENT, password: str = AGENT_PASSWORD):
    expect(page.locator("h1")).to_contain_text("Sign in to the support console")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def app_code(key: bytes, after_step: int = -1) -> tuple[str, int]:
    """The code an authenticator app shows now, and its time step; a step after ``after_step``, waiting for
    it if need be, since django-otp takes each code once."""
    while True:
        totp = TOTP(key)
        if totp.t() > after_step:
            return f"{totp.token():06d}", totp.t()
        time.sleep(0.25)


def enrol(page) -> tuple[bytes, int, list[str]]:
    """Set the app up from what the page shows: the key typed from its text, as someone who can't scan
    does. Returns the key, the time step of the code used and the recovery codes."""
    expect(page.locator("h1")).to_contain_text("Set up your authenticator app")
    key = b32decode(page.locator("code.secret").inner_text().replace(" ", ""))
    code, step = app_code(key)
    page.get_by_label("Code from the app").fill(code)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("h1")).to_contain_text("Save your recovery codes")
    return key, step, page.locator(".recovery-codes code").all_inner_texts()
