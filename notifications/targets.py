"""Where notifications may be sent: not into the deployment's own network, unless allowed.

A webhook URL is typed by any project editor, and the worker sends to it from inside the
network: without a policy it is a way to reach loopback services, private hosts and cloud
metadata (server-side request forgery). By default loopback, private, link-local, multicast,
reserved and metadata targets are refused, on save and again at delivery on the address the
name resolves to then (DNS can change between the two); the delivery then connects to exactly
that checked address. NOTIFICATION_ALLOWED_HOSTS lists hosts or networks that are allowed
anyway, for teams whose Slack proxy or webhook receiver is internal.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from tests_catalog.browser_targets import METADATA_NAMES, host_address, host_matches, is_metadata_address

LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class TargetRefused(Exception):
    """The URL points somewhere notifications may not go; the message never repeats the URL."""


class TargetUnresolvable(TargetRefused):
    """The host name has no address right now."""


def _address_problem(address) -> str | None:
    if is_metadata_address(address):
        return "a cloud metadata or link-local address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "an unspecified address (0.0.0.0 or ::)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private or address.is_reserved or not address.is_global:
        return "a private or reserved address"
    return None


def _allowed(host: str) -> bool:
    return bool(settings.NOTIFICATION_ALLOWED_HOSTS) and host_matches(host, settings.NOTIFICATION_ALLOWED_HOSTS)


def _host_port(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url.strip())
        host, port = (parts.hostname or "").rstrip(".").lower(), parts.port
    except ValueError:
        raise TargetRefused("The URL is malformed.") from None
    if parts.scheme not in ("http", "https") or not host:
        raise TargetRefused("The URL must be http(s) with a host.")
    return host, port or (443 if parts.scheme == "https" else 80)


def target_check(url: str, *, resolve: bool = True) -> None:
    """Raise TargetRefused unless notifications may go to this URL (the check on save)."""
    host, _ = _host_port(url)
    if _allowed(host):
        return
    if host in METADATA_NAMES:
        raise TargetRefused(f"{host} is a cloud metadata service.")
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        raise TargetRefused(f"{host} is this machine.")
    address = host_address(host)
    if address is not None:
        problem = _address_problem(address)
        if problem:
            raise TargetRefused(f"{host} is {problem}; list it in NOTIFICATION_ALLOWED_HOSTS to allow it.")
        return
    if resolve:
        # DNS may be down or the name not public yet: delivery checks again on the address it gets.
        with contextlib.suppress(TargetUnresolvable):
            delivery_address(url)


def delivery_address(url: str) -> tuple[str, int]:
    """The checked (address, port) to connect to now. Raises TargetRefused.

    Every address the name resolves to must be allowed: a name with one public and one private
    answer could be steered to the private one.
    """
    host, port = _host_port(url)
    literal = host_address(host)
    if literal is not None:
        target_check(url, resolve=False)
        return str(literal), port
    if host in METADATA_NAMES or host in LOCAL_NAMES or host.endswith(".localhost"):
        target_check(url, resolve=False)
    try:
        answers = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        raise TargetUnresolvable(f"{host} does not resolve.") from None
    addresses = [ipaddress.ip_address(sockaddr[0].split("%")[0]) for *_, sockaddr in answers]
    if not _allowed(host):
        for address in addresses:
            problem = _address_problem(address.ipv4_mapped or address if address.version == 6 else address)
            if problem and not _allowed(str(address)):
                raise TargetRefused(f"{host} resolves to {problem}; list it in NOTIFICATION_ALLOWED_HOSTS to allow it.")
    return str(addresses[0]), port
