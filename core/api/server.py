"""Serving the API with uvicorn: loopback unless the operator explicitly allows other addresses."""

from __future__ import annotations

import ipaddress


class UnsafeBindError(ValueError):
    """A bind address that would expose the API beyond this machine without the explicit flag."""


def check_bind_host(host: str, allow_remote: bool) -> str:
    host = (host or "").strip()
    if not host:
        raise UnsafeBindError("Give a host to listen on, e.g. 127.0.0.1.")
    if host == "localhost":
        return host
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False  # a host name could resolve to anything
    if not loopback and not allow_remote:
        raise UnsafeBindError(f"{host} is not a loopback address; anyone who can reach it could try API keys. "
                              "Pass --allow-remote to listen there anyway (put TLS in front).")
    return host


def serve(host: str = "127.0.0.1", port: int = 8600, *, allow_remote: bool = False) -> None:
    import uvicorn

    from core.api.app import create_app
    from core.bootstrap import init_workbench
    from core.logging_setup import configure_logging

    host = check_bind_host(host, allow_remote)
    init_workbench()
    configure_logging()  # warnings and errors into the monitoring logs; uvicorn prints its own access lines
    uvicorn.run(create_app(), host=host, port=port, log_level="info", proxy_headers=False)
