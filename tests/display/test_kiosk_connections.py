"""The kiosk pages' server, and the review console's, against clients that hold connections
(issue 18): hundreds of sockets sending a request head slowly and playlist requests held open
neither starve a normal client nor stay open for ever.

Both servers run as `stopline display serve` and `stopline review serve` run them
(`stopline.serving.server_config`), on a loopback port. Every wait here is for a condition: the
server holding every connection, a socket's end of file; a deadline only turns a hang into a
failure.
"""

import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from pipeline.config import ServerLimits
from stopline.billboard import kiosk_app
from stopline.console import console_app
from stopline.serving import server_config
from tests.display.conftest import crossing_config, screens
from tests.review.conftest import site_config

HEADS = 200
"""Sockets that send part of a request head and never finish it (slowloris)."""
POLLS = 100
"""Playlist requests held by the server until their wait ends."""
DEADLINE_S = 120.0
"""Only for turning a hang into a failure on a loaded machine; nothing is timed against it."""
PARTIAL_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def kiosk(tmp_path: Path, long_poll_s: float) -> FastAPI:
    display = {"screens": screens(("led", 256, 128)), "long_poll_s": long_poll_s}
    return kiosk_app(crossing_config(tmp_path, display), tmp_path)


@contextmanager
def running(web: FastAPI, limits: ServerLimits) -> Iterator[tuple[uvicorn.Server, str]]:
    """The app served as the commands serve it, on a free loopback port; yields the server
    (to read what it holds) and its base URL."""
    server = uvicorn.Server(server_config(web, "127.0.0.1", 0, limits))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    until(lambda: server.started, "the server started", thread.is_alive)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(DEADLINE_S)


def until(
    condition: Callable[[], bool], what: str, alive: Callable[[], bool] = lambda: True
) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert alive() and time.monotonic() < deadline, f"waited in vain: {what}"
        time.sleep(0.02)


def connect(base: str, sent: bytes) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=DEADLINE_S)
    sock.sendall(sent)
    return sock


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def unanswered(sock: socket.socket) -> bool:
    """Open, and nothing has come back on it yet."""
    sock.setblocking(False)
    try:
        sock.recv(1)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.settimeout(DEADLINE_S)
    return False


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def closed_by_the_server(socks: list[socket.socket], trickle: bool) -> None:
    """Wait until the server has closed every socket; with `trickle`, each still-open one is
    sent one more byte of its head at every turn, as a slowloris client keeps a head alive."""
    waiting = selectors.DefaultSelector()
    for sock in socks:
        waiting.register(sock, selectors.EVENT_READ)
    deadline = time.monotonic() + DEADLINE_S
    while waiting.get_map():
        assert time.monotonic() < deadline, f"{len(waiting.get_map())} connections still held"
        for key, _ in waiting.select(timeout=0.2):
            try:
                data = sock_of(key).recv(65536)
            except OSError:
                data = b""
            if not data:
                waiting.unregister(key.fileobj)
        for key in list(waiting.get_map().values()) if trickle else []:
            try:
                sock_of(key).send(b"a")
            except OSError:
                waiting.unregister(key.fileobj)


def sock_of(key: selectors.SelectorKey) -> socket.socket:
    assert isinstance(key.fileobj, socket.socket)
    return key.fileobj


def hold(server: uvicorn.Server, base: str, polls: list[str]) -> list[socket.socket]:
    """HEADS slow heads and one held request per path in `polls`, once the server has them all."""
    held = [connect(base, PARTIAL_HEAD) for _ in range(HEADS)]
    held += [connect(base, get(path)) for path in polls]
    state = server.server_state
    until(
        lambda: len(state.connections) >= len(held) and len(state.tasks) >= len(polls),
        f"the server holding {len(held)} connections",
    )
    return held


def normal_client(base: str, paths: list[str]) -> float:
    """Seconds a normal client took to get each path, which must all answer 200."""
    start = time.monotonic()
    with httpx.Client(base_url=base, timeout=DEADLINE_S) as client:
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
    return time.monotonic() - start


def test_a_normal_client_is_served_while_slow_heads_and_long_polls_hold_the_kiosk(
    tmp_path: Path,
) -> None:
    """Each held playlist request used to sleep in one of the 40 threads that also render
    frames and answer /healthz: forty held polls, from pages or from anyone who can reach the
    port, made every frame wait until they ran out (20 s)."""
    web = kiosk(tmp_path, long_poll_s=60)
    with running(web, ServerLimits(header_timeout_s=300)) as (server, base):
        version = httpx.get(f"{base}/billboard/led/playlist.json", timeout=DEADLINE_S).json()
        wait = f"/billboard/led/playlist.json?version={version['version']}&wait_s=1e9"
        held = hold(server, base, [wait] * POLLS)
        took = normal_client(
            base, ["/healthz", "/billboard/led", "/billboard/led/idle.png", wait[: wait.index("&")]]
        )
        print(f"normal client under {HEADS} slow heads and {POLLS} held polls: {took:.2f} s")
        assert all(unanswered(sock) for sock in held), "all still held while it was served"
        for sock in held:
            sock.close()


def test_a_normal_client_is_served_while_slow_heads_hold_the_console(tmp_path: Path) -> None:
    web = console_app(site_config(tmp_path), tmp_path)
    with running(web, ServerLimits(header_timeout_s=300)) as (server, base):
        held = hold(server, base, [])
        took = normal_client(base, ["/healthz", "/login"])
        print(f"console: normal client under {HEADS} slow heads: {took:.2f} s")
        assert all(unanswered(sock) for sock in held)
        for sock in held:
            sock.close()


def test_held_connections_are_closed_and_a_held_poll_ends_at_the_cap(tmp_path: Path) -> None:
    """A head trickling in a byte at a time, a connection that sends nothing, one idle after an
    answer, a head over the size limit: the server closes each. A poll asking to be held for
    ever (or 1e9 s) is answered when `display.long_poll_s` is up, with the same version."""
    web = kiosk(tmp_path, long_poll_s=1)
    limits = ServerLimits(header_timeout_s=2, keep_alive_s=1, max_header_bytes=4096)
    with running(web, limits) as (_, base):
        version = httpx.get(f"{base}/billboard/led/playlist.json", timeout=DEADLINE_S).json()
        polls = [
            connect(
                base, get(f"/billboard/led/playlist.json?version={version['version']}&wait_s={w}")
            )
            for w in ("1e9", "inf")
        ]
        kept = connect(base, get("/healthz"))
        huge = connect(base, b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 8192 + b"\r\n\r\n")
        trickling = [connect(base, PARTIAL_HEAD) for _ in range(HEADS)]
        silent = connect(base, b"")
        closed_by_the_server([*trickling, silent], trickle=True)
        assert answer(huge).startswith(b"HTTP/1.1 400 ")
        assert answer(kept).startswith(b"HTTP/1.1 200 "), "answered, then closed when idle"
        for poll in polls:
            head, _, body = answer(poll).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 ") and version["version"].encode() in body
