"""`alliance serve`'s gunicorn gives each web worker a listening socket of its own, so that kept-alive
connections (a proxy's, a load test's) are spread across the workers by the kernel instead of going
to whichever worker woke first (alliance/core/management/commands/serve.py says what that cost).

Read from /proc: Linux only, as the deployment is."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.operations.serving import _until, running_serve

__all__ = ["running_serve"]  # fixture used below

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads sockets from /proc (Linux)"
)

CONNECTIONS = 24


@pytest.fixture
def serve_env() -> dict[str, str]:
    return {"WEB_CONCURRENCY": "2"}


def _group(pgid: int) -> list[int]:
    """The processes of `alliance serve`'s session (it starts its children in it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == pgid:  # the fifth field of stat: the process group
            pids.append(int(entry.name))
    return pids


def _sockets(port: int) -> tuple[set[int], dict[int, int]]:
    """The inodes of the sockets listening on the port, and of the connections accepted on it (by
    the client's port)."""
    listening: set[int] = set()
    accepted: dict[int, int] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
        if int(local.split(":")[1], 16) != port:
            continue
        if state == "0A":  # LISTEN
            listening.add(inode)
        elif state == "01":  # ESTABLISHED
            accepted[int(remote.split(":")[1], 16)] = inode
    return listening, accepted


def _inodes_of(pid: int) -> set[int]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass  # ended meanwhile
    return inodes


@pytest.fixture
def kept_alive(
    running_serve: tuple[subprocess.Popen[bytes], int, Path],
) -> Iterator[tuple[int, int, list[http.client.HTTPConnection]]]:
    process, port, _database = running_serve

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    _until(answers, time.monotonic() + 90, "/health")
    with ExitStack() as stack:
        opened = []
        for _ in range(CONNECTIONS):
            # A long timeout: the second worker may still be starting (its socket is made first).
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            stack.callback(connection.close)
            # A request on each, so that a worker has accepted it; the connection stays open.
            connection.request("GET", "/health")
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200 and answer.getheader("Connection") != "close"
            opened.append(connection)
        yield process.pid, port, opened


def test_each_web_worker_listens_on_its_own_socket_and_gets_kept_alive_connections(
    kept_alive: tuple[int, int, list[http.client.HTTPConnection]],
) -> None:
    pgid, port, opened = kept_alive
    listening, accepted = _sockets(port)
    holders: dict[int, set[int]] = {}  # pid -> its listening sockets
    connections_of: dict[int, int] = {}  # pid -> how many of ours it holds
    ours = {accepted[c.sock.getsockname()[1]] for c in opened}
    for pid in _group(pgid):
        inodes = _inodes_of(pid)
        if inodes & listening:
            holders[pid] = inodes & listening
        if inodes & ours:
            connections_of[pid] = len(inodes & ours)
    # Two workers, each with its own listening socket (the master, which would share one with them
    # otherwise, holds none).
    assert len(holders) == 2, holders
    first, second = holders.values()
    assert first.isdisjoint(second)
    # Every connection accepted by a worker, and both workers got some: spread by the kernel, all
    # on one worker has a probability of 2 in 2**24.
    assert set(connections_of) <= set(holders)
    assert sum(connections_of.values()) == CONNECTIONS
    assert len(connections_of) == 2, connections_of
