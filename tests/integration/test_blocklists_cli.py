"""Blocklists through `federation admin blocks import|export` against a real gateway process:
a dry run names every invalid line and applies nothing; an apply is all or nothing; an export
re-imports to the same set."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.cli import admin
from tests.support.cluster import Node, make_node, started
from tests.unit.test_blocklists import MASTODON_CSV

pytestmark = pytest.mark.integration

BROKEN = MASTODON_CSV + "not a domain!,suspend,false,false,,false\nfine.example,obliterate\n"
EXPECTED = {
    "spam.example": "suspend",
    "noisy.example": "silence",
    "watch.example": "noop",
    "empty-severity.example": "suspend",
    "wild.example": "suspend",
    "xn--bcher-kva.example": "silence",
    "ports.example:8443": "suspend",
}


@pytest.fixture
def alpha(tmp_path: Path) -> Iterator[Node]:
    node = make_node(tmp_path, "alpha")
    with started(node):
        yield node


def blocks(node: Node) -> dict[str, str]:
    return {b["domain"]: b["severity"] for b in admin(node, "blocks", "list", "--json")["items"]}


def test_import_export_and_reimport(alpha: Node, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text(BROKEN, encoding="utf-8")
    dry = admin(alpha, "blocks", "import", str(broken)).stdout
    assert "dry run, nothing applied" in dry
    assert "added: 7" in dry and "invalid: 2" in dry and "skipped: 1" in dry
    assert "line 11: bad host" in dry and "line 12: unknown severity 'obliterate'" in dry
    assert "line 7: 'ex*mple.org' is obfuscated" in dry
    refused = admin(alpha, "blocks", "import", str(broken), "--apply", expect=1)
    assert "2 invalid lines: nothing applied" in refused.stderr
    assert blocks(alpha) == {}

    good = tmp_path / "good.csv"
    good.write_text(MASTODON_CSV, encoding="utf-8")
    applied = admin(alpha, "blocks", "import", str(good), "--apply", "--json")
    assert applied["applied"] is True and len(applied["added"]) == 7
    assert blocks(alpha) == EXPECTED

    exported = tmp_path / "export.csv"
    admin(alpha, "blocks", "export", "--output", str(exported))
    assert exported.read_text().startswith("#domain,#severity,#reject_media,#reject_reports,")
    again = admin(alpha, "blocks", "import", str(exported), "--json")
    assert (again["added"], again["changed"], again["invalid"]) == ([], [], [])
    assert len(again["kept"]) == 7
    assert "Harassment, brigading\nand bots" in {b["reason"] for b in again["kept"]}

    plain = tmp_path / "plain.txt"
    plain.write_text("# just one\nspam.example\n", encoding="utf-8")
    replaced = admin(alpha, "blocks", "import", str(plain), "--replace", "--apply", "--json")
    assert len(replaced["removed"]) == 6 and len(replaced["kept"]) == 1
    assert blocks(alpha) == {"spam.example": "suspend"}
    json_out = admin(alpha, "blocks", "export", "--format", "json", "--json")
    assert json_out["count"] == 1 and '"severity": "suspend"' in json_out["text"]


def test_subscriptions_through_the_cli(alpha: Node, tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    (served / "list.txt").write_text("# a shared list\nshared.example\n", encoding="utf-8")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/list.txt"
        made = admin(alpha, "subscriptions", "add", url, "--title", "shared", "--json")
        listing = admin(alpha, "subscriptions", "list").stdout
        assert "shared" in listing and "not fetched yet" in listing
        fetched = admin(alpha, "subscriptions", "refresh", made["id"]).stdout
        assert "applied: 1 listed, +1 -0" in fetched
        assert blocks(alpha) == {"shared.example": "suspend"}
        shown = admin(alpha, "subscriptions", "show", made["id"]).stdout
        assert "shared <" in shown and "applied" in shown
        gone = admin(alpha, "subscriptions", "remove", made["id"]).stdout
        assert "1 entries retracted" in gone
        assert blocks(alpha) == {}
    finally:
        server.shutdown()
        server.server_close()
