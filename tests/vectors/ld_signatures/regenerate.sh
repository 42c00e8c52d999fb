#!/usr/bin/env bash
# Remake the vectors that Fedify signs (README.md beside this file says what each one is).
# Needs Fedify installed by scripts/setup-interop. Each run makes new keys, so the files change.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
FEDIFY="$HERE/../../interop/fedify"
run() { (cd "$FEDIFY" && node_modules/.bin/node ld_signatures.mjs "$@"); }
pretty() { python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin), indent=2, ensure_ascii=False))'; }

echo '{"actor": "https://fedify.example/users/alice"}' | run server-create | pretty \
    > "$HERE/fedify-server-create.json"

# A Create(Note) shaped as Mastodon 4.x serialises one for delivery (its @context list with the
# security context and its inline extension context; ostatus terms, contentMap, a Mention and a
# Hashtag, an image attachment with blurhash and focalPoint, the replies collection), signed
# with RsaSignature2017 by Fedify's signJsonLd, as Mastodon signs an activity it forwards.
run sign-json <<'JSON' | pretty > "$HERE/mastodon-shaped-create.json"
{
  "keyId": "https://mastodon.example/users/bob#main-key",
  "document": {
    "@context": [
      "https://www.w3.org/ns/activitystreams",
      "https://w3id.org/security/v1",
      {
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "votersCount": "toot:votersCount",
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        "Hashtag": "as:Hashtag"
      }
    ],
    "id": "https://mastodon.example/users/bob/statuses/113500000000000001/activity",
    "type": "Create",
    "actor": "https://mastodon.example/users/bob",
    "published": "2026-12-01T09:30:00Z",
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
    "cc": ["https://mastodon.example/users/bob/followers", "https://kb.example/actor"],
    "object": {
      "id": "https://mastodon.example/users/bob/statuses/113500000000000001",
      "type": "Note",
      "summary": null,
      "inReplyTo": null,
      "published": "2026-12-01T09:30:00Z",
      "url": "https://mastodon.example/@bob/113500000000000001",
      "attributedTo": "https://mastodon.example/users/bob",
      "to": ["https://www.w3.org/ns/activitystreams#Public"],
      "cc": ["https://mastodon.example/users/bob/followers", "https://kb.example/actor"],
      "sensitive": false,
      "atomUri": "https://mastodon.example/users/bob/statuses/113500000000000001",
      "inReplyToAtomUri": null,
      "conversation": "tag:mastodon.example,2026-12-01:objectId=4242:objectType=Conversation",
      "content": "<p><span class=\"h-card\"><a href=\"https://kb.example/actor\" class=\"u-url mention\">@<span>kb</span></a></span> forwarded to you, <a href=\"https://mastodon.example/tags/fediverse\" class=\"mention hashtag\" rel=\"tag\">#<span>fediverse</span></a></p>",
      "contentMap": {"en": "<p><span class=\"h-card\"><a href=\"https://kb.example/actor\" class=\"u-url mention\">@<span>kb</span></a></span> forwarded to you, <a href=\"https://mastodon.example/tags/fediverse\" class=\"mention hashtag\" rel=\"tag\">#<span>fediverse</span></a></p>"},
      "attachment": [
        {
          "type": "Document",
          "mediaType": "image/png",
          "url": "https://files.mastodon.example/media_attachments/files/1/original/a.png",
          "name": "A diagram",
          "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
          "focalPoint": [-0.5, 0.25],
          "width": 640,
          "height": 480
        }
      ],
      "tag": [
        {"type": "Mention", "href": "https://kb.example/actor", "name": "@kb@kb.example"},
        {"type": "Hashtag", "href": "https://mastodon.example/tags/fediverse", "name": "#fediverse"}
      ],
      "replies": {
        "id": "https://mastodon.example/users/bob/statuses/113500000000000001/replies",
        "type": "Collection",
        "first": {
          "type": "CollectionPage",
          "next": "https://mastodon.example/users/bob/statuses/113500000000000001/replies?only_other_accounts=true&page=true",
          "partOf": "https://mastodon.example/users/bob/statuses/113500000000000001/replies",
          "items": []
        }
      }
    }
  }
}
JSON
