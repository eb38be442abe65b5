"""Several API processes on one port: ``contactlists serve --processes N``.

One Python process answers on one core. The parent (``serve`` itself) binds ``N`` listening
sockets to the same address with ``SO_REUSEPORT`` (so a taken port is reported once, before
anything starts), then forks ``N`` children, each serving on one of them; the kernel spreads
new connections over the sockets by a hash of their addresses. The parent serves nothing: it
forwards SIGTERM and SIGINT to every child, waits for all of them to drain and exit, and exits
0 when they did. A child that exits on its own (a crash, or the port's socket failing) stops
the others and the parent exits 1: a process manager then restarts the whole service, rather
than the parent restarting children behind its back.

What must happen once is done by the caller before :func:`run_children` forks (migrations, the
development app) or given to one child only (the job workers: child 0). Children are forked,
not spawned: they share the imported code, and each builds its own app, engine and metrics
after the fork, so nothing with a thread or a socket crosses it.

Each child runs in a process group of its own: a Ctrl-C at a terminal reaches the parent
alone, which passes it on once, so uvicorn's "second Ctrl-C forces the exit" still means a
second one. A child whose parent died (SIGKILL) notices within a second and drains itself
(``parent_pid`` in :func:`contactlists.server.runner.run`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("contactlists.server")

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# What a child that crashed before deciding exits with.
CHILD_FAILURE = 1


def bind_sockets(host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """``count`` listening sockets on one address (``SO_REUSEPORT``); OSError if it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(backlog)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _exit_code(exit: SystemExit) -> int:
    if exit.code is None:
        return 0
    return exit.code if isinstance(exit.code, int) else CHILD_FAILURE


def _stop_child(_signum: int, _frame: FrameType | None) -> None:
    # Before uvicorn has installed its own handlers, and after it re-raises the signal that
    # stopped it: a clean exit either way.
    raise SystemExit(0)


def _run_child(
    serve_one: Callable[[socket.socket, int], None], index: int, sock: socket.socket
) -> None:
    """In the forked child: serve, then leave without running the parent's exit handlers."""
    code = CHILD_FAILURE
    try:
        os.setpgid(0, 0)
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, _stop_child)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED_SIGNALS)
        serve_one(sock, index)
        code = 0
    except SystemExit as exit:
        code = _exit_code(exit)
    except KeyboardInterrupt:
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # os._exit: the parent's atexit handlers and temporary directories are not ours.
        os._exit(code)


def run_children(
    sockets: list[socket.socket],
    serve_one: Callable[[socket.socket, int], None],
    on_child_exit: Callable[[int], None] = lambda _pid: None,
) -> int:
    """Fork one child per socket to run ``serve_one(socket, index)``; the parent's exit status.

    Returns once every child has exited: 0 when they were asked to stop (SIGTERM, SIGINT) and
    all exited 0, else 1. ``on_child_exit(pid)`` runs in the parent as each one is reaped.
    """
    children: dict[int, int] = {}  # pid -> index
    stopping = False
    failed = False

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):  # exited meanwhile
                os.kill(pid, signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
    try:
        for index, sock in enumerate(sockets):
            # Blocked across the fork: a signal meanwhile must reach the child's own handler,
            # not its copy of the parent's (which would signal its siblings).
            signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED_SIGNALS)
            pid = os.fork()
            if pid == 0:
                for other in sockets:
                    if other is not sock:
                        other.close()
                _run_child(serve_one, index, sock)
            children[pid] = index
            signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED_SIGNALS)
        for sock in sockets:  # the children hold them now
            sock.close()
        if stopping:  # asked to stop while the children were being started
            forward(signal.SIGTERM, None)
        log.info("serving from %d processes: %s", len(children), " ".join(map(str, children)))
        while children:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if pid not in children:
                continue
            index = children.pop(pid)
            on_child_exit(pid)
            code = os.waitstatus_to_exitcode(status)
            if code != 0:
                failed = True
            if not stopping:
                log.error(
                    "API process %d (pid %d) exited with %d; stopping the others", index, pid, code
                )
                failed = True
                forward(signal.SIGTERM, None)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 1 if failed else 0
