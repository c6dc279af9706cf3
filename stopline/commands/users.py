"""`stopline users`: review console accounts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stopline.commands.common import ConfigOption, fail, open_store, out, plain_errors, read_config

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(help="Review console users.", no_args_is_help=True)


class UserRole(StrEnum):
    reviewer = "reviewer"
    supervisor = "supervisor"
    auditor = "auditor"
    admin = "admin"


def read_new_password() -> str:
    """Typed twice at a terminal; otherwise the first line of stdin, so scripts can pipe it in
    without the password ever appearing in the process list."""
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            fail("the two passwords differ", 1)
        return password
    return sys.stdin.readline().rstrip("\r\n")


@app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[UserRole, typer.Option(help="reviewer, supervisor, auditor or admin")],
    config: ConfigOption,
) -> None:
    """Add a console user; the password is read from stdin (typed twice at a terminal) and
    stored only as an Argon2id hash. The addition is an audit row."""
    import getpass

    from pipeline.store import audit
    from pipeline.store.registry import add_user, get_user
    from review.passwords import WeakPassword, hash_password

    cfg = read_config(config)
    try:
        password_hash = hash_password(read_new_password())
    except WeakPassword as exc:
        fail(f"stopline: {exc}", 1)
    with plain_errors(), open_store(cfg) as store, store.session() as session:
        if get_user(session, name) is not None:
            fail(f"stopline: user {name!r} exists", 1)
        add_user(session, name, password_hash, role.value)
        audit.append(
            session,
            f"cli:{getpass.getuser()}",
            "user_added",
            "user",
            name,
            {"role": role.value},
        )
    out.print(f"user {name} added as {role.value}", markup=False, highlight=False)


NameArgument = Annotated[str, typer.Argument(help="Login name")]


@app.command("list")
def users_list(config: ConfigOption) -> None:
    """List the console users: role, whether disabled, and until when a login try must wait."""
    from sqlalchemy import select

    from pipeline.store.models import User
    from review.auth import account_waits

    cfg = read_config(config)
    with plain_errors(), open_store(cfg) as store, store.session() as session:
        waits = account_waits(session)
        for user in session.scalars(select(User).order_by(User.name)):
            state = "disabled" if user.disabled_at else "active"
            wait = waits.get(user.name.casefold())
            line = f"{user.name}\t{user.role}\t{state}"
            typer.echo(line + (f"\twait until {wait.isoformat()}" if wait else ""))


def _change(name: str, config: Path, change: Callable[[Session, str], bool], done: str) -> None:
    """Run an audited account change as the shell user; exit 1 when there is no such user."""
    import getpass

    cfg = read_config(config)
    with plain_errors(), open_store(cfg) as store, store.session() as session:
        if not change(session, f"cli:{getpass.getuser()}"):
            fail(f"stopline: no user {name!r}", 1)
    out.print(f"user {name} {done}", markup=False, highlight=False)


@app.command("unlock")
def users_unlock(name: NameArgument, config: ConfigOption) -> None:
    """Forget the wrong passwords counted for a name, so its next login try need not wait."""
    from review.auth import clear_wait

    _change(name, config, lambda session, actor: clear_wait(session, name, actor), "unlocked")


@app.command("disable")
def users_disable(name: NameArgument, config: ConfigOption) -> None:
    """Disable an account: no login, and its open sessions end at once (audited)."""
    from review.auth import set_disabled

    _change(name, config, lambda s, actor: set_disabled(s, name, True, actor), "disabled")


@app.command("enable")
def users_enable(name: NameArgument, config: ConfigOption) -> None:
    """Enable a disabled account again (audited)."""
    from review.auth import set_disabled

    _change(name, config, lambda s, actor: set_disabled(s, name, False, actor), "enabled")
