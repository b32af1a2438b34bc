"""Which URLs a test may send the browser to.

Testing internal staging apps is the point of a self-hosted tool, so private and loopback
addresses stay allowed. What is refused: schemes other than http(s) (`file:` would expose the
worker's own files through screenshots and page sources; `data:`/`javascript:` run arbitrary
pages with the worker's network access), and cloud metadata services, whose credentials a
screenshot would carry out. `BROWSER_ALLOWED_HOSTS` can narrow targets to listed hosts.

Plain functions of plain data: the registry, the services and the runner all call these.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

BROWSER_SCHEMES = ("http", "https")
# The browser's own empty page, which the runner uses between executions.
ALWAYS_ALLOWED = ("about:blank",)
METADATA_NAMES = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}
)
METADATA_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "169.254.0.0/16",  # link-local: AWS, GCP, Azure, OpenStack (169.254.169.254), ECS (169.254.170.2)
        "fd00:ec2::254/128",  # AWS over IPv6
        "100.100.100.200/32",  # Alibaba Cloud
        "fe80::/10",  # IPv6 link-local
    )
)


def host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP a host names literally, in any form a browser accepts (2852039166, 0xa9.254..., [::1])."""
    host = host.strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            # inet_aton reads the legacy forms browsers also accept: decimal, octal, hex, a.b.c.
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_metadata_address(address) -> bool:
    return any(address in network for network in METADATA_NETWORKS if address.version == network.version)


def host_matches(host: str, patterns: Sequence[str]) -> bool:
    """`host` is one of the patterns: a name, `*.example.com` (subdomains), an IP or a network (CIDR)."""
    host = host.lower().rstrip(".")
    address = host_address(host)
    for pattern in patterns:
        pattern = pattern.strip().lower()
        if not pattern:
            continue
        if "/" in pattern:
            try:
                network = ipaddress.ip_network(pattern, strict=False)
            except ValueError:
                continue
            if address is not None and address.version == network.version and address in network:
                return True
        elif pattern.startswith("*."):
            if host.endswith(pattern[1:]) or host == pattern[2:]:
                return True
        elif host == pattern.strip("[]") or (address is not None and address == host_address(pattern)):
            return True
    return False


def browser_target_error(url: str, *, allowed_hosts: Sequence[str] = ()) -> str | None:
    """Why the browser must not open this absolute URL, or None when it may."""
    url = url.strip()
    if url.lower() in ALWAYS_ALLOWED:
        return None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in BROWSER_SCHEMES:
        return f"URL scheme {scheme + ':' if scheme else '(none)'} is not allowed for the browser; use http(s)."
    try:
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        host = ""
    if not host:
        return "The URL names no host."
    address = host_address(host)
    if host in METADATA_NAMES or (address is not None and is_metadata_address(address)):
        return f"{host} is a cloud metadata address; the browser may not open it."
    if allowed_hosts and not host_matches(host, allowed_hosts):
        return f"{host} is not one of the hosts BROWSER_ALLOWED_HOSTS allows."
    return None


def resolved_target_error(url: str) -> str | None:
    """At run time: the host's current DNS answers must not be metadata addresses either."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return None
    if not host or host_address(host) is not None:
        return None
    try:
        answers = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return None  # unresolvable: the browser reports that itself
    for *_, sockaddr in answers:
        address = host_address(sockaddr[0])
        if address is not None and is_metadata_address(address):
            return f"{host} resolves to a cloud metadata address; the browser may not open it."
    return None
