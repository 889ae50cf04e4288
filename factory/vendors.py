"""Vendor API keys: long random secrets, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from factory.keyring import Clock, utcnow
from factory.models import Vendor

KEY_PREFIX = "pf_"


class AuthenticationFailed(Exception):
    """The request carries no valid vendor key."""


class VendorExists(Exception):
    """A vendor with that id already exists."""


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(api_key: str) -> str:
    """SHA-256 suits a 256-bit random key; a slow password hash would add nothing but latency."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def bearer_key(authorization: str | None) -> str | None:
    """The key of an ``Authorization: Bearer KEY`` header, scheme matched case-insensitively."""
    if not authorization:
        return None
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key or " " in key:
        return None
    return key


class Credentials(Protocol):
    """What a key check needs of a vendor row, whether an ORM object or a Core row."""

    api_key_hash: str
    disabled_at: datetime | None


FoundVendor = TypeVar("FoundVendor", bound=Credentials)


def authenticate_with(
    find_by_key_hash: Callable[[str], FoundVendor | None], authorization: str | None
) -> FoundVendor:
    """The enabled vendor whose key is in the ``Authorization`` header, found by its hash."""
    key = bearer_key(authorization)
    if key is None:
        raise AuthenticationFailed
    digest = hash_api_key(key)
    vendor = find_by_key_hash(digest)
    if (
        vendor is None
        or not hmac.compare_digest(vendor.api_key_hash, digest)
        or vendor.disabled_at is not None
    ):
        raise AuthenticationFailed
    return vendor


def authenticate(session: Session, authorization: str | None) -> Vendor:
    return authenticate_with(
        lambda digest: session.scalars(
            select(Vendor).where(Vendor.api_key_hash == digest)
        ).one_or_none(),
        authorization,
    )


@dataclass(frozen=True)
class NewVendor:
    vendor: Vendor
    api_key: str


def create_vendor(
    session: Session,
    vendor_id: str,
    *,
    name: str,
    email: str | None = None,
    admin: bool = False,
    profile: dict[str, object] | None = None,
    clock: Clock = utcnow,
) -> NewVendor:
    """Create a vendor and return its API key, which is never stored or shown again."""
    api_key = generate_api_key()
    vendor = Vendor(
        id=vendor_id,
        name=name,
        email=email,
        roles=["admin"] if admin else [],
        api_key_hash=hash_api_key(api_key),
        created_at=clock(),
    )
    _apply_profile(vendor, profile or {})
    session.add(vendor)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise VendorExists(f"vendor {vendor_id!r} already exists") from None
    return NewVendor(vendor, api_key)


def list_vendors(session: Session) -> list[Vendor]:
    return list(session.scalars(select(Vendor).order_by(Vendor.created_at, Vendor.id)))


class VendorNotFound(Exception):
    """No vendor has that id."""


#: Profile fields a vendor may change, by their API names.
PROFILE_FIELDS = {
    "name": "name",
    "email": "email",
    "website": "website",
    "phone": "phone",
    "gitHubUrl": "github_url",
}


def _apply_profile(vendor: Vendor, changes: dict[str, object]) -> None:
    for api_name, value in changes.items():
        setattr(vendor, PROFILE_FIELDS[api_name], value)


def get_vendor(session: Session, vendor_id: str) -> Vendor:
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise VendorNotFound(f"no vendor {vendor_id!r}")
    return vendor


def vendor_exists(session: Session, vendor_id: str) -> bool:
    return session.get(Vendor, vendor_id) is not None


def update_profile(session: Session, vendor: Vendor, changes: dict[str, object]) -> Vendor:
    """Apply profile changes; a ``None`` removes an optional field."""
    _apply_profile(vendor, changes)
    session.commit()
    return vendor


def set_roles(session: Session, vendor: Vendor, roles: list[str]) -> Vendor:
    vendor.roles = sorted(set(roles))
    session.commit()
    return vendor


def set_admin(session: Session, vendor: Vendor, admin: bool) -> Vendor:
    roles = set(vendor.roles or [])
    roles = roles | {"admin"} if admin else roles - {"admin"}
    return set_roles(session, vendor, list(roles))


def set_disabled(session: Session, vendor: Vendor, disabled: bool, clock: Clock = utcnow) -> Vendor:
    vendor.disabled_at = clock() if disabled else None
    session.commit()
    return vendor


def rotate_key(session: Session, vendor: Vendor) -> str:
    """Give the vendor a new key; the old one stops working with this commit."""
    api_key = generate_api_key()
    vendor.api_key_hash = hash_api_key(api_key)
    session.commit()
    return api_key


def delete_vendor(session: Session, vendor: Vendor) -> None:
    """Delete the vendor and its drills; its ledger rows stay for audit."""
    session.delete(vendor)
    session.commit()
