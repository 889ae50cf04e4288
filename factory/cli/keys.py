"""``pizza-factory keys``: the signing key ring's life cycle."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from factory import key_policy, key_store, keyring
from factory.cli import Duration, echo_json, echo_table
from factory.keystore import KeyStoreError

COLUMNS = ["kid", "state", "bits", "created_at", "activated_at", "retired_at", "age", "prunable_at"]


def _store() -> keyring.KeyStore:
    return key_store(current_app.config["SETTINGS"])


def _policy() -> keyring.KeyPolicy:
    return key_policy(current_app.config["SETTINGS"])


@click.group(cls=AppGroup)
def keys() -> None:
    """Signing keys: init, list, rotate, revoke, prune, reencrypt."""


@keys.command()
@click.option("--bits", type=click.Choice(["2048", "3072", "4096"]), default="2048")
def init(bits: str) -> None:
    """Create the first active key and a next key, unless the ring has them already."""
    try:
        state, created = keyring.init_ring(_store(), int(bits))
    except (KeyStoreError, keyring.KeyRingError) as exc:
        raise click.ClickException(str(exc)) from None
    active = state.by_state(keyring.KeyState.ACTIVE)[0]
    verb = "created" if created else "already present:"
    click.echo(f"key ring {verb} active key {active.kid} in {_store().directory}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """List keys with their state, times, age and when they become prunable."""
    try:
        state = _store().read_state()
    except KeyStoreError as exc:
        raise click.ClickException(str(exc)) from None
    now = keyring.utcnow()
    rows = [keyring.describe(record, _policy(), now) for record in state.keys]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        row["age"] = keyring.human_duration(timedelta(seconds=row["age_seconds"]))
    echo_table(rows, COLUMNS)


@keys.command()
@click.option(
    "--if-older-than",
    type=Duration(),
    default=None,
    help="Do nothing while the active key is younger than this (e.g. 30d), for cron.",
)
@click.option("--force", is_flag=True, help="Rotate even if verifiers may not know the next key.")
def rotate(if_older_than: timedelta | None, force: bool) -> None:
    """next -> active, active -> retired, and a new next key."""
    try:
        result = keyring.rotate(_store(), _policy(), force=force, if_older_than=if_older_than)
    except (KeyStoreError, keyring.KeyRingError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.message)


@keys.command()
@click.argument("kid")
@click.confirmation_option(
    "--yes", prompt="Tokens signed by this key stop verifying at once. Revoke it?"
)
def revoke(kid: str) -> None:
    """Withdraw a compromised key: it leaves the JWKS and its tokens fail at once."""
    try:
        state = keyring.revoke(_store(), kid)
    except (KeyStoreError, keyring.KeyRingError) as exc:
        raise click.ClickException(str(exc)) from None
    active = state.by_state(keyring.KeyState.ACTIVE)[0]
    click.echo(f"revoked {kid}; active key is {active.kid}")


@keys.command()
def prune() -> None:
    """Delete retired keys whose verification window has passed."""
    try:
        removed = keyring.prune(_store(), _policy())
    except (KeyStoreError, keyring.KeyRingError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"pruned {len(removed)} key(s)" + (": " + ", ".join(removed) if removed else ""))


@keys.command()
def reencrypt() -> None:
    """Rewrite every key file under the first passphrase in FACTORY_KEY_PASSPHRASES."""
    try:
        rewritten = keyring.reencrypt(_store())
    except (KeyStoreError, keyring.KeyRingError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"re-encrypted {len(rewritten)} key(s)")
