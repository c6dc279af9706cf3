"""`stopline users`: review console accounts."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from stopline.commands.common import ConfigOption, fail, open_store, out, plain_errors, read_config

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
