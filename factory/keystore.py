"""The keys directory on disk: one PEM file per key plus one ring state file.

Every write goes to a temporary file that is fsynced and renamed over the
target, and every change to the ring happens under one file lock, so concurrent
CLI calls cannot corrupt the ring and a running server never reads a
half-written file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from filelock import FileLock

STATE_FILE = "ring.json"
LOCK_FILE = ".ring.lock"
STATE_FORMAT = 1
LOCK_TIMEOUT_SECONDS = 60


class KeyState(StrEnum):
    NEXT = "next"
    ACTIVE = "active"
    RETIRED = "retired"
    REVOKED = "revoked"


class KeyStoreError(Exception):
    """The keys directory cannot be read or written as it is."""


class MissingRingError(KeyStoreError):
    """There is no ring yet in the keys directory."""


class KeyFileError(KeyStoreError):
    """A key file is missing, unreadable, tampered with or encrypted without a passphrase."""


@dataclass(frozen=True)
class KeyRecord:
    """One key's entry in the ring state file."""

    kid: str
    state: KeyState
    bits: int
    created_at: datetime
    activated_at: datetime | None = None
    retired_at: datetime | None = None
    revoked_at: datetime | None = None

    def with_state(self, state: KeyState, at: datetime) -> KeyRecord:
        stamp = {
            KeyState.ACTIVE: "activated_at",
            KeyState.RETIRED: "retired_at",
            KeyState.REVOKED: "revoked_at",
        }.get(state)
        changes: dict[str, Any] = {"state": state}
        if stamp:
            changes[stamp] = at
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        for name, value in data.items():
            if isinstance(value, datetime):
                data[name] = value.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyRecord:
        def stamp(name: str) -> datetime | None:
            value = data.get(name)
            return datetime.fromisoformat(value) if value else None

        return cls(
            kid=str(data["kid"]),
            state=KeyState(data["state"]),
            bits=int(data["bits"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            activated_at=stamp("activated_at"),
            retired_at=stamp("retired_at"),
            revoked_at=stamp("revoked_at"),
        )


@dataclass(frozen=True)
class RingState:
    """What the state file holds: a generation counter and the key records."""

    generation: int
    keys: tuple[KeyRecord, ...]

    def by_state(self, state: KeyState) -> list[KeyRecord]:
        return [record for record in self.keys if record.state is state]

    def find(self, kid: str) -> KeyRecord | None:
        return next((record for record in self.keys if record.kid == kid), None)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never half."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_directory(path.parent)


class KeyStore:
    """Reads and writes the keys directory; knows nothing of key life cycles."""

    def __init__(self, directory: Path, passphrases: Sequence[str] = ()) -> None:
        self.directory = Path(directory)
        self.passphrases = tuple(passphrases)

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    def key_path(self, kid: str) -> Path:
        return self.directory / f"{kid}.pem"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise changes to the ring across processes."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.directory / LOCK_FILE), timeout=LOCK_TIMEOUT_SECONDS):
            yield

    def change_marker(self) -> tuple[int, int, int] | None:
        """A cheap fingerprint of the state file; it changes whenever the ring is rewritten."""
        try:
            stat = os.stat(self.state_path)
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def exists(self) -> bool:
        return self.state_path.exists()

    def read_state(self) -> RingState:
        try:
            raw = self.state_path.read_bytes()
        except FileNotFoundError:
            raise MissingRingError(
                f"no key ring in {self.directory}: run `pizza-factory keys init` to create one"
            ) from None
        try:
            data = json.loads(raw)
            if data.get("format") != STATE_FORMAT:
                raise ValueError(f"unsupported format {data.get('format')!r}")
            keys = tuple(KeyRecord.from_json(item) for item in data["keys"])
            return RingState(generation=int(data["generation"]), keys=keys)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyFileError(
                f"{self.state_path} is not a valid ring state file ({exc}); restore it from "
                "a backup or re-create the ring with `pizza-factory keys init`"
            ) from None

    def write_state(self, state: RingState) -> None:
        payload = {
            "format": STATE_FORMAT,
            "generation": state.generation,
            "keys": [record.to_json() for record in state.keys],
        }
        atomic_write(self.state_path, json.dumps(payload, indent=2).encode() + b"\n", 0o644)

    def write_key(self, kid: str, private_key: rsa.RSAPrivateKey) -> None:
        if self.passphrases:
            encryption: serialization.KeySerializationEncryption = (
                serialization.BestAvailableEncryption(self.passphrases[0].encode())
            )
        else:
            encryption = serialization.NoEncryption()
        pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        atomic_write(self.key_path(kid), pem, 0o600)

    def read_key(self, kid: str) -> rsa.RSAPrivateKey:
        path = self.key_path(kid)
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
        key = self._decrypt(path, pem)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyFileError(f"{path} does not hold an RSA private key")
        return key

    def _decrypt(self, path: Path, pem: bytes) -> Any:
        if b"ENCRYPTED" not in pem:
            try:
                return serialization.load_pem_private_key(pem, password=None)
            except (ValueError, TypeError) as exc:
                raise KeyFileError(f"{path} is not a valid PEM private key ({exc})") from None
        if not self.passphrases:
            raise KeyFileError(
                f"{path} is encrypted: set FACTORY_KEY_PASSPHRASES to the passphrase it uses"
            )
        for passphrase in self.passphrases:
            try:
                return serialization.load_pem_private_key(pem, password=passphrase.encode())
            except (ValueError, TypeError):
                continue
        raise KeyFileError(
            f"{path} cannot be decrypted with any passphrase in FACTORY_KEY_PASSPHRASES "
            "(or the file is damaged)"
        )

    def delete_key(self, kid: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.key_path(kid).unlink()
        _fsync_directory(self.directory)
