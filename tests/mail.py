"""A stand-in SMTP server for the tests of everything that sends mail (the `smtp_server` fixture,
registered in conftest.py): it accepts every message and keeps what was sent."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greet, accept every command, collect each DATA block."""

    def handle(self) -> None:
        self.wfile.write(b"220 test.local ESMTP\r\n")
        lines: list[bytes] | None = None
        while line := self.rfile.readline():
            if lines is not None:
                if line in (b".\r\n", b".\n"):
                    self.server.messages.append(b"".join(lines))  # type: ignore[attr-defined]
                    lines = None
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line[1:] if line.startswith(b"..") else line)
                continue
            command = line[:4].upper()
            if command in (b"EHLO", b"HELO"):
                self.wfile.write(b"250-test.local\r\n250 8BITMIME\r\n")
            elif command == b"DATA":
                lines = []
                self.wfile.write(b"354 end with .\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@contextmanager
def smtp_sink() -> Iterator[tuple[int, list[bytes]]]:
    """A running stand-in server on a free port, and the list its messages arrive in."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.messages  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def smtp_environment(port: int) -> dict[str, str]:
    return {"CONSULT_SMTP_HOST": "127.0.0.1", "CONSULT_SMTP_PORT": str(port),
            "CONSULT_SMTP_FROM": "remiss@region.example.se"}


@pytest.fixture()
def smtp_server(monkeypatch) -> Iterator[list[bytes]]:  # type: ignore[no-untyped-def]
    with smtp_sink() as (port, messages):
        for name, value in smtp_environment(port).items():
            monkeypatch.setenv(name, value)
        yield messages
