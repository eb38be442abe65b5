"""The ``contactlists`` command.

Operator commands (serve, worker, db, apps, token) work on the database; user commands
(lists, contacts, jobs, campaigns) call a running service through the SDK. Every command's
module is imported only when that command runs (or ``--help`` lists it), so ``contactlists
lists ls`` never loads SQLAlchemy or FastAPI, and importing ``contactlists.cli.lists`` loads
nothing of the server either. The operator commands' modules import the server only inside
their commands, so ``pip install contactlists`` (without the ``server`` extra) runs every user
command and every ``--help``; an operator command then says that it needs the server.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
from typer.core import TyperGroup

# typer's own (vendored) click command class; typer does not export its name.
Command = Any

# Name -> (module, attribute): a Typer app (a group of commands) or a command function.
# The order is the order of `contactlists --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "lists": ("contactlists.cli.lists", "app"),
    "contacts": ("contactlists.cli.contacts", "app"),
    "jobs": ("contactlists.cli.jobs", "app"),
    "campaigns": ("contactlists.cli.campaigns", "app"),
    "dialer": ("contactlists.cli.dialer", "app"),
    "dnc": ("contactlists.cli.dnc", "app"),
    "serve": ("contactlists.cli.serve", "serve"),
    "worker": ("contactlists.cli.worker", "worker"),
    "db": ("contactlists.cli.db", "app"),
    "apps": ("contactlists.cli.apps", "app"),
    "token": ("contactlists.cli.token", "token"),
}


def load_command(name: str) -> Command:
    """The click command ``name`` of :data:`COMMANDS`, its module imported now."""
    module_name, attribute = COMMANDS[name]
    target = getattr(importlib.import_module(module_name), attribute)
    # Built as `add_typer` and `command` would build it on the root (a group stays a group
    # even when it holds one command), then taken out of that throwaway root.
    holder = typer.Typer()
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
        holder.callback()(lambda: None)
    built = typer.main.get_command(holder)
    assert isinstance(built, TyperGroup)
    return built.commands[name]


class LazyCommands(MutableMapping[str, Command]):
    """A group's commands: every name known at once, each loaded when first looked up."""

    def __init__(self, loaded: MutableMapping[str, Command]) -> None:
        self._loaded = dict(loaded)

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded and name in COMMANDS:
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._loaded if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS.keys() | self._loaded.keys())


class LazyGroup(TyperGroup):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(self.commands)


app = typer.Typer(
    name="contactlists",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    # A traceback must never print local variables: they hold client secrets and tokens.
    pretty_exceptions_show_locals=False,
)


@app.callback(
    help="Contact lists for contact-center campaigns, wire-compatible with Kore.ai.\n\n"
    "User commands (lists, contacts, jobs, campaigns) call a running service; operator "
    "commands (serve, worker, db, apps, token) work on its database."
)
def _root() -> None:
    pass


def main() -> None:
    app()
