"""The instance actor document, WebFinger, host-meta and NodeInfo: building and looking up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from federation import DISTRIBUTION, __version__
from federation.config import FederationMode, Settings
from federation.keys import InstanceKeys

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
NODEINFO_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_21_TYPE = f'application/json; profile="{NODEINFO_21}#"'
JRD_TYPE = "application/jrd+json"


class _UnderBase:
    """One URL of the instance actor: the base URL with `path` appended."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __get__(self, urls: ActorUrls, owner: type[ActorUrls]) -> str:
        return urls.base + self.path


@dataclass(frozen=True, slots=True)
class ActorUrls:
    """Every URL of the instance actor, derived from the base URL."""

    base: str

    actor = _UnderBase("/actor")
    rsa_key_id = _UnderBase("/actor#main-key")
    ed25519_key_id = _UnderBase("/actor#ed25519-key")
    inbox = _UnderBase("/actor/inbox")
    shared_inbox = _UnderBase("/inbox")
    outbox = _UnderBase("/actor/outbox")
    followers = _UnderBase("/actor/followers")
    following = _UnderBase("/actor/following")
    context = _UnderBase("/ns")


def actor_document(settings: Settings, keys: InstanceKeys) -> dict[str, Any]:
    urls = ActorUrls(settings.base_url)
    return {
        "@context": [
            AS_CONTEXT,
            "https://w3id.org/security/v1",
            "https://w3id.org/security/data-integrity/v1",
            # The DID context is the one that defines a top-level `assertionMethod` (FEP-521a;
            # data-integrity/v1 scopes it to proofs): without it JSON-LD readers such as
            # Fedify's getAssertionMethods() drop our Ed25519 key. Fedify's order.
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
        ],
        "id": urls.actor,
        "type": "Application",
        "preferredUsername": settings.name,
        "name": f"{settings.name} ({settings.domain})",
        "url": settings.base_url,
        "inbox": urls.inbox,
        "outbox": urls.outbox,
        "followers": urls.followers,
        "following": urls.following,
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": settings.mode is not FederationMode.OPEN,
        "discoverable": False,
        "publicKey": {
            "id": urls.rsa_key_id,
            "owner": urls.actor,
            "publicKeyPem": keys.rsa_public_pem(),
        },
        "assertionMethod": [
            {
                "id": urls.ed25519_key_id,
                "type": "Multikey",
                "controller": urls.actor,
                "publicKeyMultibase": keys.ed25519_multibase(),
            }
        ],
        # FEP-844e: tell peers we verify RFC 9421 signatures.
        "generator": {
            "type": "Application",
            "implements": [
                {"href": "https://datatracker.ietf.org/doc/html/rfc9421", "name": "RFC 9421"}
            ],
        },
    }


def webfinger_subjects(settings: Settings) -> set[str]:
    """Every resource WebFinger answers for the instance actor."""
    urls = ActorUrls(settings.base_url)
    return {
        f"acct:{settings.name}@{settings.domain}",
        f"acct:{settings.domain}@{settings.domain}",
        urls.actor,
        settings.base_url,
        settings.base_url + "/",
    }


def webfinger_document(settings: Settings) -> dict[str, Any]:
    urls = ActorUrls(settings.base_url)
    return {
        "subject": f"acct:{settings.name}@{settings.domain}",
        "aliases": [urls.actor],
        "links": [
            {"rel": "self", "type": "application/activity+json", "href": urls.actor},
            {
                "rel": "self",
                "type": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                "href": urls.actor,
            },
        ],
    }


def host_meta_xml(settings: Settings) -> str:
    template = f"{settings.base_url}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/jrd+json" template="{template}"/>\n'
        "</XRD>\n"
    )


def nodeinfo_links(settings: Settings) -> dict[str, Any]:
    return {"links": [{"rel": NODEINFO_21, "href": f"{settings.base_url}/nodeinfo/2.1"}]}


def nodeinfo_document(settings: Settings, *, local_posts: int | None = None) -> dict[str, Any]:
    usage: dict[str, Any] = {"users": {"total": 1, "activeMonth": 1, "activeHalfyear": 1}}
    if local_posts is not None:
        usage["localPosts"] = local_posts
    return {
        "version": "2.1",
        "software": {
            "name": DISTRIBUTION,
            "version": __version__,
            "homepage": settings.base_url,
        },
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": usage,
        "metadata": {
            "nodeName": settings.name,
            "instanceActor": ActorUrls(settings.base_url).actor,
            "federationMode": settings.mode.value,
        },
    }
