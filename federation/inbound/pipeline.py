"""The inbound pipeline: checks every request in order, then records the activity durably.

Processing happens later from the recorded job (see inbound/handlers.py), so a crash after the
202 loses nothing and a slow handler never holds a peer's connection open.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from federation.activities import (
    InvalidActivity,
    actor_of,
    is_activitystreams_media_type,
    object_id_of,
    parse_activity,
    types_of,
)
from federation.config import FederationMode, Settings
from federation.domains import DomainPolicy
from federation.errors import ProblemError
from federation.hosts import Host, host_of
from federation.job_ports import JobQueue
from federation.jobs.coalesce import Coalescer
from federation.jobs.kinds import InboxPayload, new_job
from federation.observability.setup import Telemetry
from federation.records import NewJob
from federation.resolve.keyservice import KeySource
from federation.resolve.ldsigcheck import LdSignatureChecker
from federation.resolve.proofcheck import ProofChecker
from federation.signatures import (
    Reason,
    Rejected,
    SignedRequest,
    Verified,
    accept_signature_header,
    mismatched_digest,
    verify_request,
)

log = logging.getLogger("federation.inbox")


# Activities that act on an object, which must then share the actor's origin.
OBJECT_ACTIONS = frozenset({"Create", "Update", "Delete"})
# Activities recorded with one write at most: bounds the time one COMMIT keeps the loop busy.
MAX_RECORD_BATCH = 256


@dataclass(frozen=True, slots=True)
class InboundRequest:
    method: str
    url: str  # the public URL the peer signed (our base URL + path and query)
    headers: Mapping[str, str]
    body: bytes


def _problem(status: int, title: str, detail: str) -> ProblemError:
    return ProblemError(status, title, detail)


def signature_refused(result: Rejected, *, with_body: bool) -> ProblemError:
    """401 for a missing or unacceptable signature, naming what we accept (RFC 9421 section 5:
    Accept-Signature), so a peer that reads it signs right on its next try."""
    headers = {"Accept-Signature": accept_signature_header(with_body)}
    detail = f"{result.reason.value}: {result.detail}"
    return ProblemError(401, "Signature rejected", detail, headers=headers)


@dataclass(eq=False, repr=False, kw_only=True)
class InboxPipeline:
    settings: Settings
    queue: JobQueue
    policy: DomainPolicy
    keys: KeySource
    proofs: ProofChecker
    ld_signatures: LdSignatureChecker
    clock: Callable[[], float]
    wake: Callable[[], None]  # the runner's wake-up: a recorded activity is work queued
    telemetry: Telemetry = field(default_factory=Telemetry)

    def __post_init__(self) -> None:
        self._metrics = self.telemetry.metrics
        # Group commit: activities accepted in the same turn of the event loop (concurrent
        # requests) share one write transaction instead of paying a COMMIT each.
        self._records: Coalescer[NewJob, bool] = Coalescer(
            self._write_records, max_items=MAX_RECORD_BATCH
        )

    async def accept(self, req: InboundRequest) -> str:
        """Check the request; record it for processing. Returns the activity id."""
        self._check_content_type(req.headers.get("Content-Type", ""))
        activity = self._parse(req.body)
        actor = actor_of(activity)
        await self._check_domain(Host.of_url(actor))  # parse_activity vetted its host
        self._refuse_self_follow(activity, actor)
        signer = await self._verify(req)
        proved = await self.proofs.check(activity, actor)
        await self.proofs.check_embedded(activity, actor)
        if signer.owner != actor:
            # Forwarded or relayed: acceptable only when the actor's own proof or Linked Data
            # signature covers it. (With the actor's own HTTP signature, an LD signature is
            # not even looked at, as Mastodon does: a bad one there proves nothing false.)
            if not proved and not await self.ld_signatures.check(activity, actor):
                raise _problem(
                    401,
                    "Signer is not the actor",
                    f"the key {signer.key_id} belongs to {signer.owner}, not {actor}, and no "
                    "proof or Linked Data signature by the actor covers the activity",
                )
            owner = host_of(signer.owner)
            if owner is None:
                raise _problem(401, "Signer is not the actor", f"{signer.key_id} has no owner URL")
            await self._check_domain(owner)
        self._check_origins(activity, actor)
        return await self._record(activity, actor, signer)

    def _check_content_type(self, content_type: str) -> None:
        if not is_activitystreams_media_type(content_type):
            raise _problem(
                415,
                "Unsupported media type",
                "send application/activity+json or application/ld+json with the "
                "ActivityStreams profile",
            )

    def _parse(self, body: bytes) -> dict[str, Any]:
        if len(body) > self.settings.limits.max_body_bytes:
            raise _problem(413, "Payload too large", "the activity exceeds the body limit")
        try:
            return parse_activity(body, max_depth=self.settings.limits.max_json_depth)
        except InvalidActivity as exc:
            raise _problem(400, "Invalid activity", str(exc)) from None

    async def _check_domain(self, domain: Host) -> None:
        policy = await self.policy.current()
        if policy.blocks(domain):
            raise _problem(403, "Domain blocked", f"{domain} is blocked by this instance")
        if policy.mode is FederationMode.ALLOWLIST and not policy.allowlists(domain):
            raise _problem(403, "Domain not allowed", f"{domain} is not on the allowlist")

    def _refuse_self_follow(self, activity: dict[str, Any], actor: str) -> None:
        # Checked before the signature: no fetch of our own key for a request that cannot stand.
        own = Host.parse(self.settings.domain, self.settings.scheme)
        if "Follow" in types_of(activity) and Host.of_url(actor) == own:
            raise _problem(
                422,
                "Cannot follow itself",
                f"{actor} is on this instance ({self.settings.domain}); "
                "an instance cannot follow itself",
            )

    async def _verify(self, req: InboundRequest) -> Verified:
        started = time.perf_counter()
        signed = SignedRequest(method=req.method, url=req.url, headers=req.headers, body=req.body)
        skew = float(self.settings.limits.clock_skew_seconds)
        result = await verify_request(signed, self.keys.resolve, self.clock(), skew=skew)
        if isinstance(result, Rejected) and result.reason is Reason.BAD_SIGNATURE and result.key_id:
            # The peer may have rotated its key: fetch it again (rate-limited) and retry once.
            if await self.keys.refetch(result.key_id) is not None:
                result = await verify_request(signed, self.keys.resolve, self.clock(), skew=skew)
        if isinstance(result, Rejected):
            self._signature_checked(started, result.reason)
            raise signature_refused(result, with_body=True)
        # The signature may leave a digest header uncovered; a present one must still be true.
        wrong = mismatched_digest(req.headers, req.body)
        if wrong is not None:
            self._signature_checked(started, Reason.DIGEST_MISMATCH)
            raise _problem(400, "Digest mismatch", f"the {wrong} header does not match the body")
        self._signature_checked(started, None)
        return result

    def _signature_checked(self, started: float, refused: Reason | None) -> None:
        result = "verified" if refused is None else "rejected"
        if refused is Reason.NO_SIGNATURE:
            result = "missing"
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        self._metrics.signature_checked(result, refused.value if refused else None, elapsed_ms)

    def _check_origins(self, activity: dict[str, Any], actor: str) -> None:
        actor_host = Host.of_url(actor)
        if host_of(str(activity["id"])) != actor_host:
            raise _problem(
                403, "Foreign activity id", "the activity id is not on the actor's origin"
            )
        if OBJECT_ACTIONS.intersection(types_of(activity)):
            object_id = object_id_of(activity)
            if object_id is None:
                raise _problem(400, "Invalid activity", "the activity has no object id")
            if host_of(object_id) != actor_host:
                raise _problem(
                    403,
                    "Foreign object",
                    "an actor may only create, update or delete its own objects",
                )

    async def _record(self, activity: dict[str, Any], actor: str, signer: Verified) -> str:
        activity_id = str(activity["id"])
        job = new_job(InboxPayload(activity=activity, actor=actor, key_id=signer.key_id))
        # A failed write (e.g. a full disk) raises here for every activity of its batch.
        if not await self._records.submit(job):
            raise _problem(409, "Duplicate activity", f"{activity_id} was already received")
        self.wake()
        log.info("accepted %s %s from %s", activity.get("type"), activity_id, actor)
        return activity_id

    async def _write_records(self, jobs: Sequence[NewJob]) -> list[bool]:
        return await self.queue.enqueue_each(jobs, self.clock())
