"""The admin page as an operator uses it, in headless Chromium: nothing but the login while
logged out, errors that stay until dismissed, charts drawn from real deliveries, and every CLI
capability (follows, mode, allowlist, blocks, host health, a host's queue, retry now, host
reset, the resolver cache) done by clicking. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from federation.records import Direction
from tests.support.browser import browser, screenshot
from tests.support.cluster import Node, eventually, make_node, started
from tests.support.receivers import OK, Peer, seed_follows, status

pytestmark = pytest.mark.integration
__all__ = ["browser"]  # the fixture


@pytest.fixture
def alpha(tmp_path: Path) -> Iterator[Node]:
    node = make_node(tmp_path, "alpha")
    with started(node):
        yield node


def by() -> Any:
    from selenium.webdriver.common.by import By

    return By


def log_in(driver: Any, node: Node) -> Any:
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{node.url}/admin")
    from selenium.common.exceptions import StaleElementReferenceException

    # A condition that meets an element the refresh just replaced is tried again.
    wait = WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(ec.visibility_of_element_located((by().ID, "token"))).send_keys(node.admin_token)
    driver.find_element(by().CSS_SELECTOR, "#login-form button").click()
    wait.until(ec.text_to_be_present_in_element((by().ID, "status"), "updated"))
    return wait


def test_logged_out_shows_only_the_login(alpha: Node, browser: Any) -> None:
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{alpha.url}/admin")
    WebDriverWait(browser, 20).until(ec.visibility_of_element_located((by().ID, "login")))
    sections = browser.find_elements(by().CSS_SELECTOR, "main section")
    assert len(sections) >= 8
    assert not browser.find_element(by().ID, "panels").is_displayed()
    assert [s for s in sections if s.is_displayed()] == []
    assert not browser.find_element(by().ID, "logout").is_displayed()
    assert not browser.find_element(by().ID, "error").is_displayed()
    screenshot(browser, "admin-logged-out")


def test_an_error_stays_until_dismissed(alpha: Node, browser: Any) -> None:
    from selenium.webdriver.support import expected_conditions as ec

    wait = log_in(browser, alpha)
    form = browser.find_element(by().ID, "block-form")
    form.find_element(by().NAME, "domain").send_keys("not a domain!")
    form.find_element(by().TAG_NAME, "button").click()
    wait.until(ec.visibility_of_element_located((by().ID, "error")))
    text = browser.find_element(by().ID, "error-text").text
    assert "Invalid body" in text and "domain" in text
    # Two refreshes later (5 s apart) the error is still there.
    for _ in range(2):
        before = browser.find_element(by().ID, "status").text
        wait.until(lambda d, b=before: d.find_element(by().ID, "status").text != b)
    assert browser.find_element(by().ID, "error").is_displayed()
    assert browser.find_element(by().ID, "error-text").text == text
    screenshot(browser, "admin-error-kept")
    browser.find_element(by().ID, "error-dismiss").click()
    wait.until(ec.invisibility_of_element_located((by().ID, "error")))
    assert alpha.admin_call("GET", "/blocks")["items"] == []  # nothing was stored


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Node, Node, Peer]]:
    """alpha (the page's gateway), beta (a real peer) and a peer that refuses deliveries,
    already a follower of alpha, whose retries wait an hour."""
    peer = Peer()
    peer.behave(status(503))
    alpha = make_node(tmp_path, "alpha", delivery={"backoff_min": 3600.0})
    beta = make_node(tmp_path, "beta")
    seed_follows(alpha.root / "gateway.sqlite3", [peer], Direction.FOLLOWER)
    try:
        for node in (alpha, beta):
            node.start()
        yield alpha, beta, peer
    finally:
        alpha.stop()
        beta.stop()
        peer.close()


def click(driver: Any, xpath: str, wait: Any) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support import expected_conditions as ec

    def clicked(d: Any) -> bool:
        try:
            element = ec.element_to_be_clickable((by().XPATH, xpath))(d)
            if not element:
                return False
            element.click()
            return True
        except StaleElementReferenceException:
            # The page's 5-second refresh redrew the table between finding the button and
            # clicking it (a click on a stale element never reaches the page): find it again.
            return False

    wait.until(clicked)


def submit(driver: Any, form_id: str, **fields: str) -> None:
    form = driver.find_element(by().ID, form_id)
    for name, value in fields.items():
        field = form.find_element(by().NAME, name)
        field.clear()
        field.send_keys(value)
    form.find_element(by().TAG_NAME, "button").click()


def host_row(peer_host: str) -> str:
    return f"//table[@id='hosts']//tr[@data-host='{peer_host}']"


def test_every_cli_capability_by_clicking_and_the_charts(
    world: tuple[Node, Node, Peer], browser: Any
) -> None:
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    alpha, beta, peer = world
    wait = log_in(browser, alpha)
    notice = (by().ID, "notice")

    # Follow beta, and beta follows back: deliveries to beta succeed, to the peer fail.
    submit(browser, "follow-form", target=beta.domain)
    wait.until(ec.text_to_be_present_in_element(notice, beta.actor))
    eventually(lambda: alpha.admin_call("GET", "/following?state=accepted")["items"])
    beta.admin_call("POST", "/following", {"target": alpha.domain})
    eventually(lambda: alpha.admin_call("GET", "/followers?state=accepted")["items"][1:])
    alpha.create_block(title="to everyone")
    eventually(lambda: any(b["title"] == "to everyone" for b in beta.remote_blocks()))

    # Host health: the failing peer's row shows its error; reset it, then its queue, retry now.
    sick = host_row(peer.host)
    wait.until(ec.text_to_be_present_in_element((by().XPATH, sick), "HTTP 503"))
    # How far behind it is: the age of its oldest delivery still owed, as the CLI writes it.
    owed = browser.find_element(by().XPATH, sick + "//td[contains(@class, 'age')]").text
    assert re.fullmatch(r"\d+[smhd]", owed), owed
    click(browser, sick + "//button[.='Reset']", wait)
    wait.until(ec.text_to_be_present_in_element(notice, f"{peer.host}: available again"))
    assert eventually(lambda: alpha.admin_call("GET", f"/hosts?host={peer.host}")["items"])
    [health] = alpha.admin_call("GET", f"/hosts?host={peer.host}")["items"]
    assert health["consecutive_failures"] == 0 and health["queued"] == 1
    click(browser, sick + "//button[.='Queue']", wait)
    job_row = "//table[@id='host-queue']//tr[@data-job]"
    wait.until(ec.text_to_be_present_in_element((by().XPATH, job_row), "HTTP 503"))
    screenshot(browser, "admin-host-queue")
    peer.behave(OK)
    click(browser, job_row + "//button[.='Retry now']", wait)
    eventually(lambda: len(peer.accepted_ids()) == 1, timeout=20)

    # The charts, drawn from those deliveries.
    chart = (by().CSS_SELECTOR, "#deliveries-chart rect.ok")
    wait.until(ec.presence_of_element_located(chart))

    # Found afresh on each try: the refresh redraws the chart.
    def chart_attribute(name: str) -> int:
        value = browser.find_element(by().ID, "deliveries-chart").get_attribute(name)
        return int(value or 0)

    # The counts reach the store in the tally's flushes (every few seconds), the failed attempt
    # maybe in a later flush than the deliveries: wait for a chart drawn with both.
    wait.until(lambda d: chart_attribute("data-delivered") >= 2 and chart_attribute("data-failed"))
    assert browser.find_elements(by().CSS_SELECTOR, "#deliveries-chart rect.bad")
    assert browser.find_elements(by().CSS_SELECTOR, "#depth-chart polyline")
    assert int(browser.find_element(by().ID, "depth-chart").get_attribute("data-samples")) >= 1
    spark = browser.find_element(by().XPATH, host_row(beta.domain) + "//*[name()='svg']")
    assert int(spark.get_attribute("data-sent")) >= 1
    screenshot(browser, "admin-charts")

    # Mode and allowlist.
    Select(browser.find_element(by().ID, "mode")).select_by_visible_text("approval")
    browser.find_element(by().CSS_SELECTOR, "#mode-form button").click()
    wait.until(ec.text_to_be_present_in_element(notice, "mode: approval"))
    assert alpha.admin_call("GET", "/mode") == {"mode": "approval"}
    allowlist = browser.find_element(by().ID, "allowlist")
    allowlist.clear()
    allowlist.send_keys(f"{beta.domain}\nfriends.example")
    browser.find_element(by().CSS_SELECTOR, "#allowlist-form button").click()
    wait.until(ec.text_to_be_present_in_element(notice, "allowlist: 2 domains"))
    assert alpha.admin_call("GET", "/allowlist") == {
        "domains": sorted([beta.domain, "friends.example"])
    }

    # Block and unblock.
    submit(browser, "block-form", domain="spam.example", reason="spam")
    row = "//table[@id='blocks']//tr[@data-domain='spam.example']"
    click(browser, row + "//button[.='Unblock']", wait)
    wait.until(ec.invisibility_of_element_located((by().XPATH, row)))
    assert alpha.admin_call("GET", "/blocks")["items"] == []

    # The resolver cache: beta's block, as alpha recorded it; show it, then purge it.
    block = beta.create_block(title="cached at alpha")
    urn = f"urn:block:{beta.domain}:{block['id']}"
    eventually(lambda: any(b["urn"] == urn for b in alpha.remote_blocks()))
    submit(browser, "cache-show-form", urn=urn)
    wait.until(ec.text_to_be_present_in_element((by().ID, "cache-entry"), "cached at alpha"))
    submit(browser, "cache-purge-form", urn=urn)
    wait.until(ec.text_to_be_present_in_element(notice, "purged 1 cache entries"))

    # Unfollow.
    click(browser, f"//table[@id='following']//tr[@data-actor='{beta.actor}']//button", wait)
    eventually(lambda: alpha.admin_call("GET", "/following")["items"][0]["state"] == "undone")
    screenshot(browser, "admin-after-clicking")
    assert not browser.find_element(by().ID, "error").is_displayed()
