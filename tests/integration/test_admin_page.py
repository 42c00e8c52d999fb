"""The admin web page in a real browser (Debian's headless chromium through chromedriver):
approve a pending follower by clicking, then check the approval through the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import browser, screenshot
from tests.support.cluster import Node, eventually, make_node, started

pytestmark = pytest.mark.integration


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    alpha = make_node(tmp_path, "alpha", mode="approval")
    beta = make_node(tmp_path, "beta")
    with started(alpha, beta):
        yield alpha, beta


def test_approve_a_pending_follower_on_the_page(nodes: tuple[Node, Node], browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    alpha, beta = nodes
    beta.admin_call("POST", "/following", {"target": alpha.domain})
    eventually(lambda: alpha.admin_call("GET", "/followers?state=pending")["items"])

    browser.get(f"{alpha.url}/admin")
    wait = WebDriverWait(browser, 20)
    wait.until(ec.visibility_of_element_located((By.ID, "token"))).send_keys(alpha.admin_token)
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    row = f'#followers tr[data-actor="{beta.actor}"]'
    approve = wait.until(
        ec.element_to_be_clickable(
            (By.XPATH, f"//tr[@data-actor='{beta.actor}']//button[.='Approve']")
        )
    )
    approve.click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, row), "accepted"))

    followers = alpha.admin_call("GET", "/followers")["items"]
    assert [(f["actor"], f["state"]) for f in followers] == [(beta.actor, "accepted")]
    eventually(
        lambda: any(f["state"] == "accepted" for f in beta.admin_call("GET", "/following")["items"])
    )
    # The token stays in this tab's sessionStorage, never in the page's markup.
    assert (
        browser.execute_script("return sessionStorage.getItem('adminToken')") == alpha.admin_token
    )
    assert alpha.admin_token not in browser.page_source
    screenshot(browser, "admin-page")


__all__ = ["browser"]  # the fixture, shared from tests/support/browser.py
