"""Endpoint URLs the compliance checks call: credentials go over TLS, never in clear off this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from golive.tasks.foundation.errors import UserInputError


def base_url(url: str, what: str) -> str:
    """An https URL, or http on a loopback address only (a bundled simulator): tokens never travel in clear."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise UserInputError(f"{what} {url!r} is not an http(s) URL without credentials")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UserInputError(f"{what} {url!r}: plain http is allowed only on this machine (use https)")
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_port(url: str) -> tuple[str, int]:
    """(host, port) of an https URL or a `host:port`."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    if parts.scheme != "https" or not parts.hostname:
        raise UserInputError(f"{url!r} is not an https URL or host:port")
    return parts.hostname, parts.port or 443
