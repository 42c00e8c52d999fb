"""The gateway's metric instruments, named after Fedify's ActivityPub conventions.

One `Metrics` per process, on the MeterProvider the composition root built for it: two
gateways in one test process never share a counter. Feature code calls one method per event;
every label value it passes is bounded (see labels.py). Exported to Prometheus, a name's dots
become underscores, counters gain `_total` and durations their unit (`_milliseconds`), e.g.
`activitypub_delivery_sent_total`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from opentelemetry.metrics import CallbackOptions, Meter, NoOpMeterProvider, Observation

from federation.observability.histograms import (
    DEFAULT_BOUNDARIES,
    DiscardingHistogram,
    FastHistogram,
)
from federation.observability.labels import HostLabels, activity_type
from federation.records import Job

DELIVER_KIND = "deliver"  # the job kinds whose outcomes are also ActivityPub metrics
INBOX_KIND = "inbox"
DONE, RETRY, DEAD = "done", "retry", "dead"
REMOTE_HOST = "activitypub.remote.host"
ACTIVITY_TYPE = "activitypub.activity.type"

_HTTP_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# From a block event to its delivery: a second on a good day, days for a host that was down.
_LAG_SECONDS = (0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 86400, 3 * 86400)
_FANOUT = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


Attributes = Mapping[str, str]


class _Tally:
    """A monotonic counter kept in a dict and reported as an ObservableCounter. Adding is a dict
    update: the SDK's Counter.add() checks and hashes its attributes on every call (tens of
    microseconds), a cost the inbox's accept path would pay per request."""

    def __init__(self, meter: Meter, name: str, unit: str, description: str) -> None:
        self._counts: Counter[tuple[tuple[str, str], ...]] = Counter()
        meter.create_observable_counter(name, [self._observe], unit, description)

    def add(self, amount: int, attributes: Attributes) -> None:
        self._counts[tuple(sorted(attributes.items()))] += amount

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(n, dict(attrs)) for attrs, n in list(self._counts.items())]


class _Instruments:
    """Makes instruments on one meter; histograms are registered with the Prometheus reader
    (`histograms`), or discarded when metrics are off (None)."""

    def __init__(self, meter: Meter, histograms: list[FastHistogram] | None) -> None:
        self.meter = meter
        self._histograms = histograms

    def counter(self, name: str, unit: str, description: str) -> _Tally:
        return _Tally(self.meter, name, unit, description)

    def histogram(
        self,
        name: str,
        unit: str,
        description: str,
        labels: Sequence[str] = (),
        bounds: Sequence[float] = DEFAULT_BOUNDARIES,
    ) -> FastHistogram:
        if self._histograms is None:
            return DiscardingHistogram(name, unit, description, bounds, labels)
        histogram = FastHistogram(name, unit, description, bounds, labels)
        self._histograms.append(histogram)
        return histogram


class Metrics:
    """`histograms`: where each histogram is registered for collection (the Prometheus reader's
    list; histograms.py says why they are not SDK instruments); None: metrics are off."""

    def __init__(
        self,
        meter: Meter,
        *,
        histograms: list[FastHistogram] | None = None,
        host_labels: HostLabels | None = None,
    ) -> None:
        self._host = host_labels or HostLabels()
        self._depth: Mapping[tuple[str, str], int] = {}
        self._unavailable: Counter[str] = Counter()
        self._oldest_due: dict[str, float] = {}
        made = _Instruments(meter, histograms)
        self._activitypub(made)
        self._gateway(made)

    def _activitypub(self, made: _Instruments) -> None:
        """The instruments named after Fedify's ActivityPub conventions."""
        c, h = made.counter, made.histogram
        self._sent = c("activitypub.delivery.sent", "{delivery}", "deliveries a peer accepted")
        self._failed = c(
            "activitypub.delivery.permanent_failure", "{delivery}", "deliveries given up"
        )
        self._delivery_ms = h(
            "activitypub.delivery.duration",
            "ms",
            "one delivery attempt",
            (REMOTE_HOST, "activitypub.delivery.result"),
        )
        self._fanout = h(
            "activitypub.fanout.recipients",
            "{inbox}",
            "inboxes one outgoing activity is queued for",
            bounds=_FANOUT,
        )
        self._inbox = c("activitypub.inbox.activity", "{activity}", "inbound activities handled")
        self._inbox_ms = h(
            "activitypub.inbox.processing_duration",
            "ms",
            "handling one inbound activity",
            (ACTIVITY_TYPE,),
        )
        self._sig_failed = c(
            "activitypub.signature.verification_failure", "{request}", "signatures refused"
        )
        self._sig_ms = h(
            "activitypub.signature.verification.duration",
            "ms",
            "verifying one signature",
            ("activitypub.signature.kind", "activitypub.signature.result"),
        )
        self._key_lookup = c("activitypub.key.lookup", "{lookup}", "public key lookups")

    def _gateway(self, made: _Instruments) -> None:
        """This gateway's own: jobs, the resolver, the backend, HTTP, the queue, the hosts."""
        c, h, meter = made.counter, made.histogram, made.meter
        self._retries = c("federation.job.retries", "{job}", "job attempts that will be retried")
        self._dead = c("federation.job.dead", "{job}", "jobs given up (dead)")
        self._lag_s = h(
            "federation.delivery.lag",
            "s",
            "from the block event the backend reported to its delivery to one inbox",
            (REMOTE_HOST,),
            _LAG_SECONDS,
        )
        self._cache = c("federation.resolver.cache", "{lookup}", "resolver cache hits and misses")
        self._fetch_ms = h(
            "federation.resolver.fetch.duration",
            "ms",
            "fetching a remote block",
            ("federation.resolve.status",),
        )
        self._backend_ms = h(
            "federation.backend.request.duration",
            "ms",
            "calls to the local backend",
            ("http.request.method", "federation.backend.outcome"),
        )
        self._http_s = h(
            "http.server.request.duration",
            "s",
            "requests served, by route template",
            ("http.route", "http.request.method", "http.response.status_code"),
            _HTTP_SECONDS,
        )
        meter.create_observable_gauge(
            "federation.queue.depth", [self._observe_depth], "{job}", "jobs by kind and state"
        )
        meter.create_observable_gauge(
            "federation.host.unavailable",
            [self._observe_unavailable],
            "{host}",
            "hosts marked unavailable (deliveries to them stopped)",
        )
        meter.create_observable_gauge(
            "federation.delivery.oldest_due.age",
            [self._observe_oldest_due],
            "s",
            "how long each host's oldest delivery still owed has waited",
        )

    # -- jobs, deliveries and inbound processing (from the job runner's handlers) ------------

    def job_finished(
        self,
        job: Job,
        state: str,
        elapsed_ms: float,
        *,
        reason: str = "",
        activity: str | None = None,
        lag_s: float | None = None,
    ) -> None:
        """One run of a job ended: `state` is done, retry or dead; `reason`, when dead, a fixed
        word for why (jobs.outcomes.FailureReason, or "gave_up" when the runner gives up after
        this attempt); `lag_s`, for a delivery of a block event, the time since the event."""
        kind = {"job.kind": job.kind}
        if state == RETRY:
            self._retries.add(1, kind)
        elif state == DEAD:
            self._dead.add(1, kind)
        if job.kind == DELIVER_KIND:
            self._delivery(job, state, reason, elapsed_ms)
            if state == DONE and lag_s is not None:
                self._lag_s.record(lag_s, (self._host(job.host),))
        elif job.kind == INBOX_KIND:
            known = activity_type(activity)
            self._inbox_ms.record(elapsed_ms, (known,))
            result = {DONE: "processed", RETRY: "retry", DEAD: "failed"}[state]
            self._inbox.add(1, {ACTIVITY_TYPE: known, "activitypub.processing.result": result})

    def _delivery(self, job: Job, state: str, reason: str, elapsed_ms: float) -> None:
        host = self._host(job.host)
        result = {DONE: "delivered", RETRY: "retry", DEAD: "failed"}[state]
        self._delivery_ms.record(elapsed_ms, (host, result))
        if state == DONE:
            self._sent.add(1, {REMOTE_HOST: host})
        elif state == DEAD:
            self._failed.add(1, {REMOTE_HOST: host, "activitypub.delivery.failure_reason": reason})

    def fanout(self, recipients: int) -> None:
        self._fanout.record(recipients)

    # -- the inbox's checks --------------------------------------------------------------------

    def signature_checked(self, result: str, reason: str | None, elapsed_ms: float) -> None:
        """result: verified, rejected or missing; reason: why a refused one was refused."""
        self._sig_ms.record(elapsed_ms, ("http", result))
        if reason is not None:
            self._sig_failed.add(1, {"activitypub.signature.failure_reason": reason})

    def key_lookup(self, result: str) -> None:
        """result: hit (cached), fetch (fetched now) or miss (not found)."""
        self._key_lookup.add(1, {"activitypub.key.lookup.result": result})

    # -- resolver, backend, HTTP --------------------------------------------------------------

    def resolver_cache(self, hit: bool) -> None:
        self._cache.add(1, {"federation.cache.result": "hit" if hit else "miss"})

    def resolver_fetched(self, status: str, elapsed_ms: float) -> None:
        """status: the resolve answer (ok, not_found, gone, error)."""
        self._fetch_ms.record(elapsed_ms, (status,))

    def backend_call(self, method: str, outcome: str, elapsed_ms: float) -> None:
        """outcome: ok (2xx), rejected (4xx), error (other answers) or unreachable."""
        self._backend_ms.record(elapsed_ms, (method, outcome))

    def http_request(self, route: str, method: str, status: int, elapsed_s: float) -> None:
        """route: the route's template (never the raw path)."""
        self._http_s.record(elapsed_s, (route, method, status))

    # -- queue depth (an observable gauge, read from the store before each scrape) ----------

    def set_queue_depth(self, depth: Mapping[tuple[str, str], int]) -> None:
        """{(kind, state): jobs}, as the store counted them just now."""
        self._depth = dict(depth)

    def set_unavailable_hosts(self, hosts: Sequence[str]) -> None:
        """The hosts the store marks unavailable right now."""
        self._unavailable = Counter(self._host(host) for host in hosts)

    def set_oldest_deliveries(self, oldest: Mapping[str, float], now: float) -> None:
        """{host: creation time of its oldest delivery still owed}, as the store read it just
        now. Hosts past the label bound share "other", which shows the oldest of them."""
        ages: dict[str, float] = {}
        for host, created_at in oldest.items():
            label = self._host(host)
            ages[label] = max(ages.get(label, 0.0), max(0.0, now - created_at))
        self._oldest_due = ages

    def _observe_oldest_due(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(age, {REMOTE_HOST: host}) for host, age in sorted(self._oldest_due.items())
        ]

    def _observe_unavailable(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(count, {REMOTE_HOST: host})
            for host, count in sorted(self._unavailable.items())
        ]

    def _observe_depth(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(count, {"job.kind": kind, "job.state": state})
            for (kind, state), count in sorted(self._depth.items())
        ]


def disabled_metrics() -> Metrics:
    """Instruments that record nothing (metrics off): each call costs a no-op method call."""
    return Metrics(NoOpMeterProvider().get_meter("federation"))
