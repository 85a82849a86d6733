"""The address the Space listens on: refused at once, in one line naming the option to change,
when it cannot be bound (Gradio's own error is a traceback naming its environment variable)."""

from __future__ import annotations

import errno
import socket


class PortInUse(OSError):
    """The server cannot listen on the given host and port; the message says what to change."""


def _bind_error(host: str, port: int) -> OSError | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is no owner
        try:
            s.bind((host, port))
        except OSError as exc:
            return exc
    return None


def check_port(host: str, port: int) -> None:
    """Refuse an address another process holds (naming a free port nearby), a privileged port
    and a host that is not this machine's, before the slow part of the start."""
    error = _bind_error(host, port)
    if error is None:
        return
    if error.errno == errno.EADDRINUSE:
        free = next((p for p in range(port + 1, min(port + 50, 65536)) if _bind_error(host, p) is None), None)
        hint = f" (port {free} is free)" if free else ""
        raise PortInUse(f"port {port} on {host} is already in use (another leaderboard or another program): "
                        f"start on a free port with --port N{hint}")
    if error.errno == errno.EACCES:
        raise PortInUse(f"port {port} needs privileges this user lacks: use a port above 1023 with --port N")
    raise PortInUse(f"cannot listen on {host}:{port} ({error.strerror or error}): check --host and --port")
