"""``reconcile token create|list|revoke``: bearer tokens of the server's API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from reconciler.api.tokens import NAME, hash_token, new_token
from reconciler.base.errors import UserError
from reconciler.base.times import stamp
from reconciler.commands.apply import current_actor
from reconciler.commands.options import config_option
from reconciler.commands.state import configured_company, open_state, state_clock
from reconciler.status.view import company_timezone
from reconciler.store.location import state_dir_option
from reconciler.store.records import TokenScope


@click.group("token")
def token_group() -> None:
    """Bearer tokens for the server's API (CI plans and applies with them).

    A token belongs to one company (the one of --config) and has a scope:
    `plan` reads the latest snapshot, the status and the plan history;
    `apply` also submits plans.
    """


@token_group.command("create")
@click.argument("name")
@click.option(
    "--scope",
    type=click.Choice([scope.value for scope in TokenScope]),
    default=TokenScope.PLAN.value,
    show_default=True,
    help="plan: read only (pull requests); apply: may also queue plans (the main branch).",
)
@config_option
@state_dir_option
def create_command(name: str, scope: str, config_dir: Path, state_dir: Path) -> None:
    """Create a token called NAME and print it once (only its hash is kept)."""
    if not NAME.fullmatch(name):
        raise UserError(
            f"{name!r} is not a token name: letters, digits, '.', '_' and '-', "
            "at most 64, starting with a letter or digit"
        )
    store = open_state(state_dir)
    try:
        company = configured_company(store, config_dir)
        now = state_clock(store).now()
        with store.atomic():
            if store.tokens.by_name(name) is not None:
                raise UserError(
                    f"a token called {name!r} exists already",
                    hint=f"Revoke it first (`reconcile token revoke {name}`), or pick another name.",
                )
            token, key_id = new_token()
            store.tokens.add(
                company.id,
                name=name,
                scope=TokenScope(scope),
                key_id=key_id,
                token_hash=hash_token(token),
                at=now,
            )
            store.audit.add(
                company.id,
                actor=current_actor(),
                action="token-create",
                at=now,
                detail={"name": name, "scope": scope, "key_id": key_id},
            )
    finally:
        store.close()
    click.echo(
        f"Created the {scope} token {name!r} for {company.name} "
        "(shown once; only its hash is kept):",
        err=True,
    )
    click.echo(token)
    click.echo("Store it as the CI secret RECONCILE_TOKEN.", err=True)


@token_group.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Show revoked tokens too.")
@config_option
@state_dir_option
def list_command(include_revoked: bool, config_dir: Path, state_dir: Path) -> None:
    """List the tokens of the company of --config: name, scope, key id, when created and
    last used (in the company's time zone)."""
    store = open_state(state_dir, read_only=True)
    try:
        company = configured_company(store, config_dir)
        tokens = [
            token
            for token in store.tokens.all(include_revoked=include_revoked)
            if token.company_id == company.id
        ]
        simulated = store.installation.clock_shift() is not None
    finally:
        store.close()
    if not tokens:
        click.echo(f"No tokens for {company.name}. Create one with `reconcile token create NAME`.")
        return
    timezone = company_timezone(company)

    def at(moment: dt.datetime | None, otherwise: str) -> str:
        return otherwise if moment is None else stamp(moment, timezone, simulated=simulated)

    click.echo(f"Tokens of {company.name}:")
    rows = [("NAME", "SCOPE", "KEY", "CREATED", "LAST USED", "REVOKED")]
    for token in tokens:
        rows.append(
            (
                token.name,
                token.scope.value,
                f"rct_{token.key_id}_…",
                at(token.created_at, ""),
                at(token.last_used_at, "never"),
                at(token.revoked_at, ""),
            )
        )
    if not include_revoked:
        rows = [row[:-1] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@token_group.command("revoke")
@click.argument("name")
@config_option
@state_dir_option
def revoke_command(name: str, config_dir: Path, state_dir: Path) -> None:
    """Revoke the token called NAME of the company of --config: it stops working at once."""
    store = open_state(state_dir)
    try:
        company = configured_company(store, config_dir)
        now = state_clock(store).now()
        with store.atomic():
            live = store.tokens.by_name(name)
            if live is not None and live.company_id != company.id:
                owner = store.companies.get(live.company_id).name
                raise UserError(
                    f"the token {name!r} belongs to {owner}, not to {company.name}",
                    hint="Give the --config of its company.",
                )
            token = store.tokens.revoke(name, now)
            if token is None:
                raise UserError(
                    f"no live token called {name!r}",
                    hint="`reconcile token list` shows the live tokens.",
                )
            store.audit.add(
                token.company_id,
                actor=current_actor(),
                action="token-revoke",
                at=now,
                detail={"name": name, "key_id": token.key_id},
            )
    finally:
        store.close()
    click.echo(f"Revoked the token {name!r} (rct_{token.key_id}_…) of {company.name}.")
