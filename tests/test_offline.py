"""The offline guard (tests/offline/sitecustomize.py) that `make test` runs every chapter under:
a connection to a public address raises and cannot be swallowed; loopback keeps working."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUARD = ROOT / "tests" / "offline"


def run_guarded(code: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python whose PYTHONPATH holds the guard, as `make test` does."""
    env = {**os.environ, "PYTHONPATH": str(GUARD)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=60)


def test_public_addresses_are_blocked():
    run = run_guarded("""
        import socket, urllib.request, urllib.error
        import sitecustomize
        Blocked = sitecustomize.NetworkBlocked
        cases = {
            "tcp to an IPv4 address": lambda: socket.create_connection(("192.0.2.1", 443), timeout=5),
            # a name is refused before it is resolved (create_connection resolves it first and
            # then connects to the address, which is blocked as above)
            "tcp to a host name": lambda: socket.socket().connect(("example.org", 443)),
            "tcp connect_ex": lambda: socket.socket().connect_ex(("198.51.100.7", 80)),
            "tcp to IPv6": lambda: socket.socket(socket.AF_INET6).connect(("2001:db8::1", 80)),
            "udp sendto": lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("192.0.2.1", 53)),
            # urllib turns OSErrors into URLError; the guard's error is not an OSError, so it
            # surfaces instead of being handled as "offline, try something else"
            "urllib": lambda: urllib.request.urlopen("http://192.0.2.1/", timeout=5),
        }
        for name, attempt in cases.items():
            try:
                attempt()
            except Blocked as err:
                assert "DEMYSTIFY_DATA" in str(err), err
                print("blocked:", name)
            except BaseException as err:
                print("NOT BLOCKED:", name, type(err).__name__, err)
            else:
                print("NOT BLOCKED:", name, "connected")
        assert not isinstance(Blocked("x"), OSError)
    """)
    assert run.returncode == 0, run.stderr
    assert "NOT BLOCKED" not in run.stdout, run.stdout
    assert run.stdout.count("blocked:") == 6, run.stdout


def test_loopback_and_unix_sockets_still_work():
    run = run_guarded("""
        import os, socket, threading
        server = socket.socket()
        server.bind(("127.0.0.1", 0)); server.listen()
        port = server.getsockname()[1]
        threading.Thread(target=lambda: server.accept()[0].sendall(b"ok"), daemon=True).start()
        with socket.create_connection(("localhost", port), timeout=5) as client:
            assert client.recv(2) == b"ok"
        a, b = socket.socketpair()
        a.sendall(b"hi"); assert b.recv(2) == b"hi"
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.sendto(b"x", ("127.0.0.1", port))
        assert os.environ["DEMYSTIFY_OFFLINE_GUARD"] == "1"
        print("loopback ok")
    """)
    assert run.returncode == 0, run.stderr
    assert "loopback ok" in run.stdout


def test_make_test_runs_everything_under_the_guard():
    """`make test` and `make nbval` put the guard on PYTHONPATH, so every chapter kernel has it."""
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^OFFLINE\s*:?=.*PYTHONPATH=\S*tests/offline", makefile, re.M), \
        "the Makefile defines no OFFLINE := PYTHONPATH=…tests/offline"
    for target in ("test", "nbval"):
        recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.M)
        assert recipe and "$(OFFLINE)" in recipe.group(1) and "pytest" in recipe.group(1), \
            f"`make {target}` does not run pytest under $(OFFLINE)"
