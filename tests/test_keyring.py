"""The key ring's life cycle with an injected clock, and its files on disk."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from factory import keyring
from factory.keyring import KeyPolicy, KeyRing, KeyRingError, KeyState, RotationRefused
from factory.keystore import KeyFileError, KeyStore, MissingRingError
from factory.tokens import LedgerStatus, issue, verify

TTL = timedelta(hours=24)
POLICY = KeyPolicy(min_next_age=timedelta(minutes=5), retention=TTL + timedelta(minutes=2))
ISSUER = "pizza-factory"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        self.tick = 0.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.tick

    def advance(self, delta: timedelta) -> None:
        self.now += delta
        self.tick += delta.total_seconds()


class AllIssued:
    def status(self, jti: str) -> LedgerStatus:
        return LedgerStatus.ISSUED


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> KeyStore:
    store = KeyStore(tmp_path / "keys")
    keyring.init_ring(store, 2048, clock)
    return store


def ring_for(store: KeyStore, clock: FakeClock) -> KeyRing:
    ring = KeyRing(store, POLICY, clock=clock, monotonic=clock.monotonic)
    ring.load()
    return ring


def sign(ring: KeyRing, clock: FakeClock) -> str:
    return issue(
        {"order": {}}, ring, issuer=ISSUER, ttl_seconds=int(TTL.total_seconds()), clock=clock
    ).token


def check(token: str, ring: KeyRing, clock: FakeClock):
    return verify(token, ring, AllIssued(), issuer=ISSUER, clock=clock)


def jwks_kids(ring: KeyRing) -> list[str]:
    return [key["kid"] for key in json.loads(ring.snapshot.jwks_body)["keys"]]


def test_init_creates_an_active_and_a_next_key_and_is_idempotent(tmp_path, clock):
    store = KeyStore(tmp_path / "keys")
    state, created = keyring.init_ring(store, 2048, clock)
    assert created
    assert [r.state for r in state.keys] == [KeyState.ACTIVE, KeyState.NEXT]
    again, created_again = keyring.init_ring(store, 2048, clock)
    assert not created_again and again == state
    for record in state.keys:
        mode = stat.S_IMODE(os.stat(store.key_path(record.kid)).st_mode)
        assert mode == 0o600
        assert len(record.kid) == 43


def test_full_life_cycle(store, clock):
    """init -> rotate (refused early, allowed later) -> old tokens verify -> prune -> revoke."""
    ring = ring_for(store, clock)
    first_kid = ring.snapshot.signing_key.kid
    next_kid = store.read_state().by_state(KeyState.NEXT)[0].kid
    old_token = sign(ring, clock)

    clock.advance(timedelta(minutes=1))
    with pytest.raises(RotationRefused, match="safe from"):
        keyring.rotate(store, POLICY, clock)

    clock.advance(timedelta(minutes=5))
    result = keyring.rotate(store, POLICY, clock)
    assert result.rotated
    state = store.read_state()
    assert state.find(first_kid).state is KeyState.RETIRED
    assert state.find(next_kid).state is KeyState.ACTIVE
    assert len(state.by_state(KeyState.NEXT)) == 1

    clock.advance(timedelta(seconds=1))
    assert ring.snapshot.signing_key.kid == next_kid
    assert check(old_token, ring, clock).valid
    assert jwks_kids(ring)[0] == next_kid and first_kid in jwks_kids(ring)
    new_token = sign(ring, clock)
    assert jwt.get_unverified_header(new_token)["kid"] == next_kid

    clock.advance(TTL)
    assert keyring.prune(store, POLICY, clock) == []
    clock.advance(timedelta(minutes=2))
    assert first_kid not in jwks_kids(ring)
    assert keyring.prune(store, POLICY, clock) == [first_kid]
    assert not store.key_path(first_kid).exists()
    assert store.read_state().find(first_kid) is None

    clock.advance(timedelta(seconds=1))
    assert check(sign(ring, clock), ring, clock).valid
    revoked_token = sign(ring, clock)
    keyring.revoke(store, next_kid, clock)
    clock.advance(timedelta(seconds=1))
    assert next_kid not in jwks_kids(ring)
    assert check(revoked_token, ring, clock).reason == "unknown key"
    assert ring.snapshot.signing_key.kid != next_kid
    state = store.read_state()
    assert len(state.by_state(KeyState.ACTIVE)) == 1 and len(state.by_state(KeyState.NEXT)) == 1


def test_rotate_if_older_than_is_a_no_op_for_a_young_key(store, clock):
    clock.advance(timedelta(days=1))
    result = keyring.rotate(store, POLICY, clock, if_older_than=timedelta(days=30))
    assert not result.rotated and "nothing to do" in result.message
    clock.advance(timedelta(days=30))
    assert keyring.rotate(store, POLICY, clock, if_older_than=timedelta(days=30)).rotated


def test_force_rotates_at_once(store, clock):
    assert keyring.rotate(store, POLICY, clock, force=True).rotated


def test_revoking_a_retired_or_next_key(store, clock):
    clock.advance(timedelta(hours=1))
    retired_kid = store.read_state().by_state(KeyState.ACTIVE)[0].kid
    keyring.rotate(store, POLICY, clock)
    next_kid = store.read_state().by_state(KeyState.NEXT)[0].kid
    keyring.revoke(store, retired_kid, clock)
    keyring.revoke(store, next_kid, clock)
    state = store.read_state()
    assert state.find(retired_kid).state is KeyState.REVOKED
    assert state.by_state(KeyState.NEXT)[0].kid != next_kid
    with pytest.raises(KeyRingError, match="no unrevoked key"):
        keyring.revoke(store, retired_kid, clock)


def test_ring_change_is_seen_after_the_reload_interval_only(store, clock):
    ring = ring_for(store, clock)
    before = ring.snapshot.signing_key.kid
    keyring.rotate(store, POLICY, clock, force=True)
    assert ring.snapshot.signing_key.kid == before
    clock.tick += 1.0
    assert ring.snapshot.signing_key.kid != before


def test_unknown_kid_reloads_at_most_once_a_second(store, clock, monkeypatch):
    ring = ring_for(store, clock)
    checks = []
    original = store.change_marker
    monkeypatch.setattr(store, "change_marker", lambda: checks.append(1) or original())
    for _ in range(50):
        assert ring.verification_key("unknown") is None
    assert len(checks) == 1
    for _ in range(100):  # five seconds of a steady stream of unknown kids
        clock.tick += 0.05
        assert ring.verification_key("unknown") is None
    # at most one forced check plus one periodic check per second
    assert len(checks) <= 1 + 2 * 5


def test_passphrases_encrypt_keys_and_reencrypt_rewrites_them(tmp_path, clock):
    store = KeyStore(tmp_path / "keys", passphrases=["old-secret"])
    state, _ = keyring.init_ring(store, 2048, clock)
    kid = state.keys[0].kid
    assert b"ENCRYPTED" in store.key_path(kid).read_bytes()
    with pytest.raises(KeyFileError, match="FACTORY_KEY_PASSPHRASES"):
        KeyStore(store.directory).read_key(kid)
    rotated = KeyStore(store.directory, passphrases=["new-secret", "old-secret"])
    assert keyring.reencrypt(rotated) == [r.kid for r in state.keys]
    with pytest.raises(KeyFileError, match="cannot be decrypted"):
        store.read_key(kid)
    assert KeyStore(store.directory, ["new-secret"]).read_key(kid)


def test_missing_ring_names_the_init_command(tmp_path, clock):
    with pytest.raises(MissingRingError, match="pizza-factory keys init"):
        KeyRing(KeyStore(tmp_path), POLICY, clock=clock).load()


def test_a_missing_key_file_is_named(store, clock):
    kid = store.read_state().by_state(KeyState.NEXT)[0].kid
    store.key_path(kid).unlink()
    with pytest.raises(KeyFileError, match=kid):
        ring_for(store, clock)


def test_a_swapped_key_file_is_detected(store, clock):
    state = store.read_state()
    active, upcoming = state.keys[0].kid, state.keys[1].kid
    shutil.copy(store.key_path(upcoming), store.key_path(active))
    with pytest.raises(KeyFileError, match="tampered"):
        ring_for(store, clock)


def test_a_garbled_key_file_is_named(store, clock):
    kid = store.read_state().keys[0].kid
    store.key_path(kid).write_bytes(
        b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(KeyFileError, match=kid):
        ring_for(store, clock)


def test_a_broken_state_file_is_named(store, clock):
    store.state_path.write_text("{not json")
    with pytest.raises(KeyFileError, match=r"ring\.json"):
        ring_for(store, clock)


def test_a_running_ring_keeps_its_last_good_keys_when_files_break(store, clock):
    ring = ring_for(store, clock)
    kid = ring.snapshot.signing_key.kid
    keyring.rotate(store, POLICY, clock, force=True)
    new_active = store.read_state().by_state(KeyState.ACTIVE)[0].kid
    store.key_path(new_active).write_bytes(b"garbage")
    clock.tick += 1.0
    assert ring.snapshot.signing_key.kid == kid
    assert ring.is_stale and new_active in ring.last_error


def test_concurrent_rotations_leave_one_active_key(store):
    script = (
        "import sys; from datetime import timedelta; from factory import keyring;"
        "from factory.keystore import KeyStore;"
        "p = keyring.KeyPolicy(timedelta(minutes=5), timedelta(days=2));"
        "keyring.rotate(KeyStore(sys.argv[1]), p, force=True)"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(store.directory)]) for _ in range(4)
    ]
    assert [p.wait(timeout=120) for p in processes] == [0, 0, 0, 0]
    state = store.read_state()
    assert len(state.by_state(KeyState.ACTIVE)) == 1
    assert len(state.by_state(KeyState.NEXT)) == 1
    assert len(state.by_state(KeyState.RETIRED)) == 4
    assert state.generation == 5
    KeyRing(store, POLICY).load()
    leftovers = [p.name for p in store.directory.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
