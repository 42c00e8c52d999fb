"""Instance settings: a TOML file in instances/, overridden by FEDERATION_* variables."""

from __future__ import annotations

import os
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from federation.errors import ConfigError

_WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # listen on every interface; never a URL's host


class FederationMode(StrEnum):
    OPEN = "open"  # accept every follow
    APPROVAL = "approval"  # follows wait for an admin
    ALLOWLIST = "allowlist"  # only allowlisted domains federate


class LogFormat(StrEnum):
    TEXT = "text"  # one line per event, the instance name first (a shared terminal)
    JSON = "json"  # one JSON object per line (a log collector)


class Limits(BaseModel):
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    max_json_depth: int = Field(32, ge=4, le=256)
    connect_timeout: float = Field(5.0, gt=0)
    # No byte from a peer for this long (first byte of the answer included): give up, well
    # before total_timeout, so a blackholed host holds its lane seconds, not half a minute.
    read_timeout: float = Field(10.0, gt=0)
    total_timeout: float = Field(30.0, gt=0)
    max_redirects: int = Field(3, ge=0, le=10)
    per_host_connections: int = Field(4, ge=1)
    # Open connections to peers in all; 0 = what the process can hold (half its open-file
    # limit, at most 2,048).
    max_connections: int = Field(0, ge=0)
    clock_skew_seconds: int = Field(3600, ge=1)
    resolve_batch_max: int = Field(500, ge=1)
    # A connection whose request headers (or announced body) take longer is closed.
    header_timeout: float = Field(10.0, gt=0)
    body_timeout: float = Field(30.0, gt=0)
    # Inbound backpressure, per peer host (unsigned requests: per client address): a token
    # bucket of `burst` requests refilled at `rate` a second, for inbox POSTs and signed GETs.
    inbox_rate: float = Field(100.0, gt=0)
    inbox_burst: int = Field(1000, ge=1)
    fetch_rate: float = Field(50.0, gt=0)
    fetch_burst: int = Field(500, ge=1)
    # A request over its limit is answered 429 after this long, so a sender that ignores
    # Retry-After is slowed to one request per connection per hold (0: answer at once).
    throttled_hold_seconds: float = Field(1.0, ge=0, le=30)
    # Requests of one peer (host, or address when unsigned) checked at once; more wait.
    peer_concurrency: int = Field(8, ge=1)


class DeliverySettings(BaseModel):
    max_attempts: int = Field(16, ge=1)
    # Attempt n waits base * n**4 + 15 s plus jitter (Mastodon's curve: ~2.5 days for 16).
    backoff_base: float = Field(1.0, gt=0)
    backoff_min: float = Field(15.0, ge=0)
    retry_after_cap: float = Field(6 * 3600.0, gt=0)
    # Renewed every third of itself while a job runs: it bounds how long a dead worker's jobs
    # wait, not how long a job may take.
    lease_seconds: float = Field(30.0, gt=0)
    # A runner whose heartbeat (written every quarter of this) is older has its jobs taken
    # over by the others: how long a killed process's work waits, whatever the lease.
    takeover_seconds: float = Field(2.0, gt=0)
    # Jobs in flight at once; 0 = what the process can hold (as limits.max_connections):
    # per-host lanes (per_host_concurrency), not this, keep a host from being flooded.
    workers: int = Field(0, ge=0)
    per_host_concurrency: int = Field(4, ge=1)
    # A delivery answered this late narrows its host's lane (halved; widened again by answers
    # in time): a slow host gets fewer deliveries at once.
    slow_seconds: float = Field(5.0, gt=0)
    breaker_threshold: int = Field(10, ge=1)
    breaker_open_seconds: float = Field(60.0, ge=0)
    unavailable_after_days: int = Field(7, ge=1)
    backfill_page_size: int = Field(50, ge=1)
    backfill_pause: float = Field(0.05, ge=0)


class CacheSettings(BaseModel):
    fresh_seconds: float = Field(2 * 3600.0, ge=0)
    negative_seconds: float = Field(60.0, ge=0)
    key_refetch_interval: float = Field(60.0, ge=0)


class Settings(BaseSettings):
    """One instance. Every field can be set by FEDERATION_<FIELD> (nested: FEDERATION_LIMITS__X)."""

    model_config = SettingsConfigDict(
        env_prefix="FEDERATION_", env_nested_delimiter="__", extra="forbid"
    )

    name: str = "instance"
    domain: str  # host[:port] peers use to reach us, e.g. "blocks.example" or "127.0.0.1:8001"
    scheme: str = "https"
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(8000, ge=0, le=65535)
    backend_url: str = "http://127.0.0.1:9000"
    backend_token: str = ""
    backend_listen_port: int = Field(9000, ge=0, le=65535)  # used by the reference backend
    # Where browsers reach the reference backend's block pages (each block's `url`); e.g.
    # "https://blocks.example/kb" behind a proxy. Unset: its listen address (loopback for 0.0.0.0).
    backend_public_url: str | None = None
    backend_store: Path = Path("data/backend.sqlite3")
    admin_token: str = ""
    # Bearer token of GET /metrics (Prometheus text); empty = no metrics endpoint (404).
    metrics_token: str = ""
    # A separate metrics listener (on listen_host): how worker-role processes, which bind no
    # port, are scraped. None = none.
    metrics_listen_port: int | None = Field(None, ge=0, le=65535)
    store: str = "data/gateway.sqlite3"  # a SQLite path, or mongodb://...
    key_dir: Path = Path("data/keys")
    mode: FederationMode = FederationMode.OPEN
    allowlist: list[str] = Field(default_factory=list)
    authorized_fetch: bool = False
    dev_allow_http: bool = False  # permit http:// peers (dev setups only)
    allow_private_addresses: list[str] = Field(default_factory=list)  # e.g. ["127.0.0.1"] in dev
    sqlite_synchronous: str = "NORMAL"
    # The gateway's event loop: "uvloop" (libuv) instead of asyncio's own, where installed.
    event_loop: Literal["asyncio", "uvloop"] = "asyncio"
    log_format: LogFormat = LogFormat.TEXT
    limits: Limits = Field(default_factory=Limits)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str) -> str:
        from federation.urn import normalise_authority

        return normalise_authority(v)

    @field_validator("allowlist")
    @classmethod
    def _allowlist(cls, v: list[str]) -> list[str]:
        from federation.hosts import normalise_host

        return [normalise_host(entry) for entry in v]

    @field_validator("scheme")
    @classmethod
    def _scheme(cls, v: str) -> str:
        if v not in ("http", "https"):
            raise ValueError("must be 'http' or 'https'")
        return v

    @field_validator("sqlite_synchronous")
    @classmethod
    def _sync(cls, v: str) -> str:
        if v.upper() not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError("must be NORMAL, FULL or EXTRA")
        return v.upper()

    @field_validator("backend_public_url")
    @classmethod
    def _public_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from federation.hosts import Host

        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        host = Host.of_url(v)
        if host.name in _WILDCARD_HOSTS:
            raise ValueError(f"{host.name} is a listen address, not one a browser can reach")
        return v.rstrip("/")

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    @property
    def peer_scheme(self) -> str:
        """The scheme other instances are reached on: https, plain http only in dev setups."""
        return self.scheme if self.dev_allow_http else "https"

    def local_url(self, port: int) -> str:
        """http://<listen host>:<port> as a process on this machine reaches it: a wildcard
        listen address (0.0.0.0, ::) is no destination, so it becomes loopback."""
        host = "127.0.0.1" if self.listen_host in _WILDCARD_HOSTS else self.listen_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    @property
    def backend_page_url(self) -> str:
        """The base of the reference backend's public block pages."""
        return self.backend_public_url or self.local_url(self.backend_listen_port)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file: the file's values arrive as init arguments.
        return env_settings, init_settings


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Load an instance file (relative paths inside it resolve against the file's folder)."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"instance file not found: {p}") from None
        except OSError as exc:
            raise ConfigError(f"cannot read instance file {p}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from None
        base = p.resolve().parent
        for key in ("key_dir", "backend_store"):
            if key in data and not Path(str(data[key])).is_absolute():
                data[key] = str(base / str(data[key]))
        store = data.get("store")
        if isinstance(store, str) and "://" not in store and not Path(store).is_absolute():
            data["store"] = str(base / store)
    data.update(overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None


def _describe(exc: ValidationError, path: str | Path | None) -> str:
    """Say where each bad value came from: an environment variable or the instance file."""
    errors = exc.errors()
    missing = {str(err["loc"][0]) for err in errors if err["type"] == "missing" and err["loc"]}
    if path is None and "domain" in missing:
        return (
            "an instance file is needed: pass --instance FILE (see instances/ for examples), "
            "or set FEDERATION_DOMAIN and the other settings in the environment"
        )
    from_env: list[str] = []
    from_file: list[str] = []
    for err in errors:
        field = ".".join(str(x) for x in err["loc"]) or "(file)"
        env_name = "FEDERATION_" + "__".join(str(x) for x in err["loc"]).upper()
        if err["loc"] and env_name in os.environ:
            from_env.append(f"environment variable {env_name}: {err['msg']}")
        else:
            from_file.append(f"{field}: {err['msg']}")
    parts = []
    if from_env:
        parts.append("; ".join(from_env))
    if from_file:
        where = f"{path}: " if path else ""
        parts.append(f"{where}invalid configuration: " + "; ".join(from_file))
    return "; ".join(parts)
