"""The signing key ring: key life cycle, the published JWKS, and live reloading.

States: *next* (published, not yet signing), *active* (signs; exactly one),
*retired* (published and verifying for ``retention`` seconds after retirement)
and *revoked* (gone from the JWKS at once). A next key always exists, so every
verifier's cached JWKS already holds the key that signs after the next rotation.

Nothing here imports Flask; the clock is passed in so the life cycle is testable.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from factory.keystore import (
    KeyFileError,
    KeyRecord,
    KeyState,
    KeyStore,
    KeyStoreError,
    RingState,
)

Clock = Callable[[], datetime]
ALLOWED_BITS = (2048, 3072, 4096)
RELOAD_INTERVAL_SECONDS = 1.0
LOAD_ATTEMPTS = 3

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class KeyRingError(Exception):
    """A key ring operation cannot be carried out; the message says what to do."""


class RotationRefused(KeyRingError):
    """Rotating now could make verifiers with a cached JWKS reject new tokens."""


@dataclass(frozen=True)
class KeyPolicy:
    """How long keys must stay published around a rotation.

    ``min_next_age`` is the JWKS cache lifetime the service advertises: a next
    key must have been published that long before it may sign. ``retention``
    is how long a retired key keeps verifying (at least the token lifetime).
    """

    min_next_age: timedelta
    retention: timedelta

    def prunable_at(self, record: KeyRecord) -> datetime | None:
        if record.state is KeyState.RETIRED and record.retired_at:
            return record.retired_at + self.retention
        if record.state is KeyState.REVOKED and record.revoked_at:
            return record.revoked_at + self.retention
        return None

    def is_published(self, record: KeyRecord, now: datetime) -> bool:
        if record.state in (KeyState.NEXT, KeyState.ACTIVE):
            return True
        if record.state is KeyState.RETIRED:
            return now < self.prunable_at(record)  # type: ignore[operator]
        return False


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """The RFC 7638 SHA-256 JWK thumbprint, used as the key id."""
    jwk = public_jwk_members(public_key)
    canonical = json.dumps(
        {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def public_jwk_members(public_key: rsa.RSAPublicKey) -> dict[str, str]:
    """The key's public JWK members (kty, n, e), without PyJWT's optional extras."""
    jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}


def generate_key(bits: int) -> rsa.RSAPrivateKey:
    if bits not in ALLOWED_BITS:
        raise KeyRingError(f"key size must be one of {', '.join(map(str, ALLOWED_BITS))}")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


# --- life-cycle operations (run by the CLI, under the store's file lock) ---------


def _add_new_key(store: KeyStore, state: KeyState, bits: int, now: datetime) -> KeyRecord:
    """Write a fresh key's file; the caller writes the state that references it."""
    private_key = generate_key(bits)
    kid = thumbprint(private_key.public_key())
    store.write_key(kid, private_key)
    record = KeyRecord(kid=kid, state=KeyState.NEXT, bits=bits, created_at=now)
    return record.with_state(state, now) if state is not KeyState.NEXT else record


def _save(store: KeyStore, previous: RingState | None, keys: list[KeyRecord]) -> RingState:
    generation = previous.generation + 1 if previous else 1
    new_state = RingState(generation=generation, keys=tuple(keys))
    store.write_state(new_state)
    return new_state


def _current_bits(state: RingState, default: int = 2048) -> int:
    active = state.by_state(KeyState.ACTIVE)
    return active[0].bits if active else default


def init_ring(store: KeyStore, bits: int = 2048, clock: Clock = utcnow) -> tuple[RingState, bool]:
    """Create an active and a next key if the ring has none; return (state, created)."""
    with store.locked():
        if store.exists():
            state = store.read_state()
            if state.by_state(KeyState.ACTIVE) and state.by_state(KeyState.NEXT):
                return state, False
            keys = list(state.keys)
        else:
            state, keys = None, []
        now = clock()
        if not any(record.state is KeyState.ACTIVE for record in keys):
            keys.insert(0, _add_new_key(store, KeyState.ACTIVE, bits, now))
        if not any(record.state is KeyState.NEXT for record in keys):
            keys.append(_add_new_key(store, KeyState.NEXT, bits, now))
        return _save(store, state, keys), True


def _promote_next(
    keys: list[KeyRecord], store: KeyStore, bits: int, now: datetime
) -> list[KeyRecord]:
    """next -> active, plus a new next key; the caller has already moved the old active."""
    promoted = [
        record.with_state(KeyState.ACTIVE, now) if record.state is KeyState.NEXT else record
        for record in keys
    ]
    promoted.append(_add_new_key(store, KeyState.NEXT, bits, now))
    return promoted


@dataclass(frozen=True)
class RotationResult:
    rotated: bool
    message: str
    state: RingState


def rotate(
    store: KeyStore,
    policy: KeyPolicy,
    clock: Clock = utcnow,
    *,
    force: bool = False,
    if_older_than: timedelta | None = None,
) -> RotationResult:
    """next -> active, active -> retired, and a new next key."""
    with store.locked():
        state = store.read_state()
        now = clock()
        active = _single(state, KeyState.ACTIVE)
        upcoming = _single(state, KeyState.NEXT)
        if if_older_than is not None and active.activated_at:
            age = now - active.activated_at
            if age < if_older_than:
                return RotationResult(
                    False,
                    f"active key {active.kid} is {human_duration(age)} old, younger than "
                    f"{human_duration(if_older_than)}: nothing to do",
                    state,
                )
        safe_from = upcoming.created_at + policy.min_next_age
        if now < safe_from and not force:
            raise RotationRefused(
                f"next key {upcoming.kid} has been published for only "
                f"{human_duration(now - upcoming.created_at)}; verifiers may cache the JWKS for "
                f"{human_duration(policy.min_next_age)}, so rotation is safe from "
                f"{safe_from.isoformat(timespec='seconds')} "
                f"(in {human_duration(safe_from - now)}). "
                "Use --force to rotate anyway."
            )
        keys = [
            record.with_state(KeyState.RETIRED, now) if record is active else record
            for record in state.keys
        ]
        keys = _promote_next(keys, store, _current_bits(state), now)
        new_state = _save(store, state, keys)
        return RotationResult(True, f"rotated: {upcoming.kid} now signs", new_state)


def revoke(store: KeyStore, kid: str, clock: Clock = utcnow) -> RingState:
    """Withdraw a key at once; revoking the active or next key brings in a replacement."""
    with store.locked():
        state = store.read_state()
        target = state.find(kid)
        if target is None or target.state is KeyState.REVOKED:
            raise KeyRingError(f"no unrevoked key with kid {kid!r}: see `pizza-factory keys list`")
        now = clock()
        bits = _current_bits(state)
        keys = [
            record.with_state(KeyState.REVOKED, now) if record is target else record
            for record in state.keys
        ]
        if target.state is KeyState.ACTIVE:
            keys = _promote_next(keys, store, bits, now)
        elif target.state is KeyState.NEXT:
            keys.append(_add_new_key(store, KeyState.NEXT, bits, now))
        new_state = _save(store, state, keys)
        store.delete_key(kid)
        return new_state


def prune(store: KeyStore, policy: KeyPolicy, clock: Clock = utcnow) -> list[str]:
    """Delete retired and revoked keys whose verification window has passed."""
    with store.locked():
        state = store.read_state()
        now = clock()
        expired = [
            record
            for record in state.keys
            if (until := policy.prunable_at(record)) is not None and now >= until
        ]
        if not expired:
            return []
        keep = [record for record in state.keys if record not in expired]
        _save(store, state, keep)
        for record in expired:
            store.delete_key(record.kid)
        return [record.kid for record in expired]


def reencrypt(store: KeyStore) -> list[str]:
    """Rewrite every key file under the first configured passphrase (or none)."""
    with store.locked():
        state = store.read_state()
        rewritten = []
        for record in state.keys:
            if record.state is KeyState.REVOKED:
                continue
            store.write_key(record.kid, store.read_key(record.kid))
            rewritten.append(record.kid)
        return rewritten


def _single(state: RingState, key_state: KeyState) -> KeyRecord:
    found = state.by_state(key_state)
    if len(found) != 1:
        raise KeyRingError(
            f"the ring holds {len(found)} {key_state.value} keys instead of one: "
            "run `pizza-factory keys init` to repair it"
        )
    return found[0]


def human_duration(delta: timedelta) -> str:
    seconds = max(delta.total_seconds(), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


# --- the live ring used by the running service -------------------------------


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey


@dataclass(frozen=True)
class RingSnapshot:
    """One consistent view of the ring: what signs, what verifies, and the JWKS body."""

    state: RingState
    signing_key: SigningKey
    verification_keys: Mapping[str, rsa.RSAPublicKey]
    jwks_body: bytes
    etag: str
    valid_until: datetime | None
    private_keys: Mapping[str, rsa.RSAPrivateKey] = field(repr=False)


def _build_snapshot(
    state: RingState,
    private_keys: Mapping[str, rsa.RSAPrivateKey],
    policy: KeyPolicy,
    now: datetime,
) -> RingSnapshot:
    active = _single(state, KeyState.ACTIVE)
    _single(state, KeyState.NEXT)
    published = [record for record in state.keys if policy.is_published(record, now)]
    order = {KeyState.ACTIVE: 0, KeyState.NEXT: 1, KeyState.RETIRED: 2}
    published.sort(key=lambda r: (order[r.state], -(r.retired_at or r.created_at).timestamp()))
    public_keys = {record.kid: private_keys[record.kid].public_key() for record in published}
    jwks = {
        "keys": [
            {
                **public_jwk_members(public_keys[record.kid]),
                "kid": record.kid,
                "use": "sig",
                "alg": "RS256",
            }
            for record in published
        ]
    }
    body = json.dumps(jwks, separators=(",", ":")).encode()
    windows = [
        policy.prunable_at(record) for record in published if record.state is KeyState.RETIRED
    ]
    return RingSnapshot(
        state=state,
        signing_key=SigningKey(active.kid, private_keys[active.kid]),
        verification_keys=public_keys,
        jwks_body=body,
        etag=hashlib.sha256(body).hexdigest()[:32],
        valid_until=min(windows) if windows else None,  # type: ignore[type-var]
        private_keys=private_keys,
    )


class KeyRing:
    """The service's view of the keys directory, kept fresh without a restart.

    The state file's change marker is checked at most once per
    ``RELOAD_INTERVAL_SECONDS``; key files are parsed only when it changed. A
    failed reload keeps the last good snapshot (never a half-loaded ring) and
    marks the ring stale so readiness checks can report it.
    """

    def __init__(
        self,
        store: KeyStore,
        policy: KeyPolicy,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.policy = policy
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._snapshot: RingSnapshot | None = None
        self._marker: tuple[int, int, int] | None = None
        self._checked_at = float("-inf")
        self._forced_at = float("-inf")
        self.last_error: str | None = None

    def load(self) -> RingSnapshot:
        """Load the ring now, raising if it is missing or damaged (used at start-up)."""
        with self._lock:
            self._checked_at = self._monotonic()
            return self._reload()

    @property
    def snapshot(self) -> RingSnapshot:
        now = self._monotonic()
        if now - self._checked_at >= RELOAD_INTERVAL_SECONDS:
            self._refresh(now)
        snapshot = self._snapshot
        if snapshot is None:
            raise KeyRingError(self.last_error or "the key ring is not loaded")
        if snapshot.valid_until is not None and self._clock() >= snapshot.valid_until:
            with self._lock:
                snapshot = self._snapshot = _build_snapshot(
                    snapshot.state, snapshot.private_keys, self.policy, self._clock()
                )
        return snapshot

    @property
    def is_stale(self) -> bool:
        return self.last_error is not None

    def verification_key(self, kid: str) -> rsa.RSAPublicKey | None:
        """The published key with exactly this kid; an unknown kid reloads at most once a second."""
        key = self.snapshot.verification_keys.get(kid)
        if key is not None:
            return key
        now = self._monotonic()
        if now - self._forced_at < RELOAD_INTERVAL_SECONDS:
            return None
        self._forced_at = now
        self._refresh(now, force=True)
        return self.snapshot.verification_keys.get(kid)

    def _refresh(self, now: float, *, force: bool = False) -> None:
        with self._lock:
            if not force and now - self._checked_at < RELOAD_INTERVAL_SECONDS:
                return
            self._checked_at = now
            if self.store.change_marker() == self._marker and self._snapshot is not None:
                return
            try:
                self._reload()
            except (KeyStoreError, KeyRingError) as exc:
                self.last_error = str(exc)
                log.error("key ring reload failed, still using the last good ring: %s", exc)

    def _reload(self) -> RingSnapshot:
        for attempt in range(LOAD_ATTEMPTS):
            marker = self.store.change_marker()
            state = self.store.read_state()
            try:
                private_keys = {
                    record.kid: self._read_checked(record)
                    for record in state.keys
                    if self.policy.is_published(record, self._clock())
                }
            except KeyFileError:
                # A concurrent prune may have removed a file after we read the state.
                if attempt + 1 < LOAD_ATTEMPTS and self.store.change_marker() != marker:
                    continue
                raise
            snapshot = _build_snapshot(state, private_keys, self.policy, self._clock())
            self._snapshot, self._marker, self.last_error = snapshot, marker, None
            return snapshot
        raise KeyRingError("the key ring kept changing while loading; try again")

    def _read_checked(self, record: KeyRecord) -> rsa.RSAPrivateKey:
        private_key = self.store.read_key(record.kid)
        if thumbprint(private_key.public_key()) != record.kid:
            raise KeyFileError(
                f"{self.store.key_path(record.kid)} does not hold the key its name says "
                f"({record.kid}); the file was replaced or tampered with"
            )
        return private_key


def describe(record: KeyRecord, policy: KeyPolicy, now: datetime) -> dict[str, object]:
    """A key's listing row: times, age and when it may be pruned."""
    since = record.activated_at or record.created_at
    prunable = policy.prunable_at(record)
    return {
        **record.to_json(),
        "age_seconds": int((now - since).total_seconds()),
        "prunable_at": prunable.isoformat() if prunable else None,
        "published": policy.is_published(record, now),
    }
