"""`stopline` itself, before any one command: a user can find every command from its help."""

from tests.cli import stopline


def test_help_lists_every_command() -> None:
    result = stopline("--help")
    assert result.returncode == 0
    for command in ("demo", "run", "worker", "config", "evidence"):
        assert command in result.stdout
