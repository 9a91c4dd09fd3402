"""Offline guard for test runs: a socket connection to any non-loopback address raises.

`make test` (and `make nbval`) put this folder on PYTHONPATH, so every Python process they start
— pytest itself and every chapter's Jupyter kernel — imports this module at start-up (Python's
`sitecustomize` hook). From then on `connect`, `connect_ex` and `sendto` to an address other
than 127.0.0.0/8, ::1 or `localhost` raise `NetworkBlocked`. It is a RuntimeError, not an
OSError, on purpose: code that handles network errors (urllib's URLError, retries, "offline?
fall back") cannot swallow it, so a chapter that tries to reach the network fails its test
instead of quietly degrading. Unix sockets and Jupyter's own loopback (ZeroMQ) traffic are
untouched. tests/test_offline.py proves both halves.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import sys

GUARD_ENV = "DEMYSTIFY_OFFLINE_GUARD"


class NetworkBlocked(RuntimeError):
    """A test run tried to open a network connection (the course must run offline)."""


def _is_loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").split("%", 1)[0]
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False            # a host name other than localhost: never resolved, blocked


def _check(sock: socket.socket, address, what: str) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return                  # AF_UNIX and friends never leave the machine
    host = address[0] if isinstance(address, tuple) and address else address
    if not _is_loopback(host):
        raise NetworkBlocked(
            f"network access blocked: {what} to {address!r}. The course must run offline "
            f"(this guard is tests/offline/sitecustomize.py): read data from files under "
            f"DEMYSTIFY_DATA, or download only when DEMYSTIFY_DOWNLOAD=1 — never in a test run")


def install() -> None:
    """Wrap socket.socket's connect, connect_ex and sendto with the loopback-only check."""
    if getattr(socket.socket, "_demystify_offline", False):
        return
    connect, connect_ex, sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto

    def guarded_connect(self, address):
        _check(self, address, "connect")
        return connect(self, address)

    def guarded_connect_ex(self, address):
        _check(self, address, "connect")
        return connect_ex(self, address)

    def guarded_sendto(self, data, *args):
        _check(self, args[-1], "sendto")
        return sendto(self, data, *args)

    socket.socket.connect, socket.socket.connect_ex = guarded_connect, guarded_connect_ex
    socket.socket.sendto = guarded_sendto
    socket.socket._demystify_offline = True
    os.environ[GUARD_ENV] = "1"     # children see that they run under the guard


def _chain_next_sitecustomize() -> None:
    """Run the sitecustomize this one shadows (e.g. Debian's), if there is one later on sys.path."""
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        if os.path.abspath(entry or os.curdir) == here:
            continue
        candidate = os.path.join(entry or os.curdir, "sitecustomize.py")
        if os.path.isfile(candidate):
            with open(candidate, encoding="utf-8") as handle:
                code = compile(handle.read(), candidate, "exec")
            exec(code, {"__name__": "_chained_sitecustomize", "__file__": candidate})
            return


install()
_chain_next_sitecustomize()
