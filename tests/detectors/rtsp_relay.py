"""A minimal RTSP server for the source tests: ffmpeg publishes, OpenCV plays.

ffmpeg's RTSP muxer cannot act as a server (`-rtsp_flags listen` is a demuxer option: with it
ffmpeg 5.1 still dials out and fails with "Connection refused"), so a real camera is played by a
real ffmpeg pushing to this relay (ANNOUNCE/RECORD), which hands its SDP and RTP packets on to
players (DESCRIBE/SETUP/PLAY). It speaks RTP interleaved over the RTSP TCP connection only and
answers a UDP SETUP with 461, which makes FFmpeg's client fall back to TCP as it would with a
camera that refuses UDP. One publisher, one media track: enough for a video-only test stream.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress
from io import BufferedReader

_SESSION = "5173"


class RtspRelay:
    """Listens on 127.0.0.1:`port`; `stop()` drops every connection, like a camera going away."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._sdp: bytes | None = None
        self._publisher: socket.socket | None = None
        self._players: list[socket.socket] = []
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()  # replies and fanned-out packets must not interleave
        self._server = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            conns, self._conns, self._players = self._conns, [], []
        for sock in [self._server, *conns]:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        with suppress(OSError):
            while True:
                conn, _ = self._server.accept()
                with self._lock:
                    self._conns.append(conn)
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        stream = conn.makefile("rb")
        with suppress(OSError, ValueError):
            while (first := stream.read(1)) != b"":
                if first == b"$":  # interleaved RTP/RTCP; players' receiver reports go nowhere
                    header = stream.read(3)
                    packet = first + header + stream.read(int.from_bytes(header[1:], "big"))
                    if conn is self._publisher:
                        self._fan_out(packet)
                else:
                    self._answer(conn, first + self._read_head(stream), stream)
        with suppress(OSError):
            conn.close()

    @staticmethod
    def _read_head(stream: BufferedReader) -> bytes:
        lines = []
        while (line := stream.readline()) not in (b"\r\n", b""):
            lines.append(line)
        return b"".join(lines)

    def _answer(self, conn: socket.socket, head: bytes, stream: BufferedReader) -> None:
        request, *header_lines = head.decode("latin-1").splitlines()
        method, url, _ = request.split(" ", 2)
        headers = {
            name.strip().lower(): value.strip()
            for name, value in (line.split(":", 1) for line in header_lines if ":" in line)
        }
        body = stream.read(int(headers.get("content-length", 0)))
        status, extra, payload = "200 OK", {}, b""
        if method == "OPTIONS":
            extra["Public"] = "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, TEARDOWN"
        elif method == "ANNOUNCE":
            self._sdp, self._publisher = body, conn
        elif method == "DESCRIBE":
            if self._sdp is None:
                status = "404 Not Found"
            else:
                extra["Content-Type"] = "application/sdp"
                extra["Content-Base"] = url.rstrip("/") + "/"
                payload = self._sdp
        elif method == "SETUP":
            transport = headers.get("transport", "")
            if "TCP" not in transport:
                status = "461 Unsupported Transport"
            else:
                extra["Transport"] = transport
                extra["Session"] = _SESSION
        elif method == "PLAY":
            extra["Session"] = _SESSION
            with self._lock:
                self._players.append(conn)
        lines = [f"RTSP/1.0 {status}", f"CSeq: {headers.get('cseq', '0')}"]
        lines += [f"{name}: {value}" for name, value in extra.items()]
        if payload:
            lines.append(f"Content-Length: {len(payload)}")
        with self._send_lock:
            conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

    def _fan_out(self, packet: bytes) -> None:
        with self._lock:
            players = list(self._players)
        for player in players:
            try:
                with self._send_lock:
                    player.sendall(packet)
            except OSError:
                with self._lock, suppress(ValueError):
                    self._players.remove(player)
