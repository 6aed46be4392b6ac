"""`ketlit serve`: run the app under uvicorn on a loopback address unless told otherwise."""

from __future__ import annotations

import ipaddress
import socket
import sys

import uvicorn

from index.errors import UsageError
from index.settings import Settings


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    """Bind ourselves so a taken port is one clear line, and --port 0 picks a free one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"serve: cannot resolve --host {host!r}: {exc.strerror}") from None
    family, type_, proto, _canon, addr = infos[0]
    # proto must be IPPROTO_TCP (not 0): asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto says TCP, and without it every keep-alive response waits ~40 ms on delayed ACKs.
    sock = socket.socket(family, type_, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise UsageError(f"serve: cannot listen on {host}:{port} ({exc.strerror}); "
                         "choose another --port") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080) -> None:
    from search.web.app import create_app

    loopback = _is_loopback(host)
    # On a loopback address only requests naming this machine are answered, so a web page
    # elsewhere cannot reach the API through DNS rebinding.
    allowed = ["127.0.0.1", "localhost", "::1", "[::1]"] if loopback else None
    if loopback and host not in allowed:
        allowed.append(host)
    app = create_app(settings, allowed_hosts=allowed)
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"ketlit: serving http://{shown}:{bound_port}/ (API under /api/, "
          f"OpenAPI at /openapi.json); Ctrl-C to stop", file=sys.stderr, flush=True)
    if not loopback:
        print(f"ketlit: warning: listening on {host}, not a loopback address: anyone who can "
              "reach this machine can read the index", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
