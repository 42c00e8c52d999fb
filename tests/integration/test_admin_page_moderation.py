"""The page's moderation controls in headless Chromium against a real gateway process:
pausing and resuming a host's delivery, a blocklist's preview (invalid lines named, nothing
applied), its apply, and an export. Screenshots go to test-artifacts/."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from federation.records import Direction
from tests.integration.test_admin_page_ops import by, click, host_row, log_in, submit
from tests.support.browser import browser, screenshot
from tests.support.cluster import Node, eventually, make_node, started
from tests.support.receivers import Peer, seed_follows

pytestmark = pytest.mark.integration
__all__ = ["browser"]  # the fixture

GOOD = "#domain,#severity\nspam.example,suspend\nquiet.example,silence\n"
BAD = GOOD + "not a domain!,suspend\n"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Node, Peer]]:
    peer = Peer()
    alpha = make_node(tmp_path, "alpha")
    seed_follows(alpha.root / "gateway.sqlite3", [peer], Direction.FOLLOWER)
    try:
        with started(alpha):
            yield alpha, peer
    finally:
        peer.close()


def test_pause_resume_import_and_export_by_clicking(world: tuple[Node, Peer], browser: Any) -> None:
    from selenium.webdriver.support import expected_conditions as ec

    alpha, peer = world
    wait = log_in(browser, alpha)
    notice = (by().ID, "notice")
    row = host_row(peer.host)

    click(browser, row + "//button[.='Pause']", wait)
    wait.until(ec.text_to_be_present_in_element(notice, f"{peer.host}: delivery paused"))
    wait.until(ec.text_to_be_present_in_element((by().XPATH, row), "paused"))
    assert [p["host"] for p in alpha.admin_call("GET", "/hosts/paused")["items"]] == [peer.host]
    alpha.create_block(title="held back")
    wait.until(lambda d: alpha.admin_call("GET", f"/hosts?host={peer.host}")["items"][0]["queued"])
    screenshot(browser, "admin-host-paused")
    click(browser, row + "//button[.='Resume']", wait)
    wait.until(ec.text_to_be_present_in_element(notice, f"{peer.host}: delivery resumed"))
    eventually(lambda: len(peer.accepted_ids()) == 1)
    assert alpha.admin_call("GET", "/hosts/paused")["items"] == []

    text = browser.find_element(by().ID, "import-text")
    text.send_keys(BAD)
    browser.find_element(by().ID, "import-apply").click()
    diff = (by().ID, "import-diff")
    wait.until(ec.text_to_be_present_in_element(diff, "line 4: bad host"))
    wait.until(ec.visibility_of_element_located((by().ID, "error")))
    assert "1 invalid lines: nothing applied" in browser.find_element(by().ID, "error-text").text
    assert alpha.admin_call("GET", "/blocks")["items"] == []
    screenshot(browser, "admin-blocklist-invalid")
    browser.find_element(by().ID, "error-dismiss").click()

    text.clear()
    text.send_keys(GOOD)
    browser.find_element(by().ID, "import-preview").click()
    wait.until(ec.text_to_be_present_in_element(diff, "dry run, nothing applied"))
    assert "added: 2" in browser.find_element(*diff).text
    assert alpha.admin_call("GET", "/blocks")["items"] == []
    browser.find_element(by().ID, "import-apply").click()
    wait.until(ec.text_to_be_present_in_element(notice, "blocklist applied: 2 added"))
    quiet = "//table[@id='blocks']//tr[@data-domain='quiet.example']"
    wait.until(ec.text_to_be_present_in_element((by().XPATH, quiet), "silence"))
    severities = {b["domain"]: b["severity"] for b in alpha.admin_call("GET", "/blocks")["items"]}
    assert severities == {"spam.example": "suspend", "quiet.example": "silence"}

    browser.find_element(by().CSS_SELECTOR, "#export-form button").click()
    exported = (by().ID, "export-text")
    wait.until(ec.text_to_be_present_in_element(exported, "#domain,#severity,#reject_media"))
    assert "quiet.example,silence" in browser.find_element(*exported).text
    screenshot(browser, "admin-blocklist-applied")


def test_a_subscription_by_clicking(world: tuple[Node, Peer], browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.support import expected_conditions as ec

    alpha, _ = world
    served = tmp_path / "served"
    served.mkdir()
    (served / "list.csv").write_text(GOOD, encoding="utf-8")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        wait = log_in(browser, alpha)
        notice = (by().ID, "notice")
        url = f"http://127.0.0.1:{server.server_address[1]}/list.csv"
        submit(browser, "subscribe-form", url=url, title="shared list")
        wait.until(ec.text_to_be_present_in_element(notice, f"subscribed to {url}"))
        [made] = alpha.admin_call("GET", "/subscriptions")["items"]
        row = f"//table[@id='subscriptions']//tr[@data-subscription='{made['id']}']"
        click(browser, row + "//button[.='Refresh']", wait)
        wait.until(ec.text_to_be_present_in_element(notice, "shared list: applied: 2 listed"))
        wait.until(ec.text_to_be_present_in_element((by().XPATH, row), "applied"))
        assert {b["domain"] for b in alpha.admin_call("GET", "/blocks")["items"]} == {
            "spam.example",
            "quiet.example",
        }
        screenshot(browser, "admin-subscription")
        click(browser, row + "//button[.='Unsubscribe']", wait)
        wait.until(ec.text_to_be_present_in_element(notice, "2 entries retracted"))
        assert alpha.admin_call("GET", "/blocks")["items"] == []
    finally:
        server.shutdown()
        server.server_close()
