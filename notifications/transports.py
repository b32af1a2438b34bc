"""The one module that sends notifications out: webhooks and Slack over HTTP, e-mail over SMTP.

Errors never carry the target URL or the secret: a Slack URL is itself a credential.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage

from notifications import message as messages
from notifications import targets
from notifications.models import ChannelKind

TIMEOUT_SECONDS = 10
SIGNATURE_HEADER = "X-JBTestSuite-Signature"
USER_AGENT = "JBTestSuite-notifications/1"


class DeliveryFailed(Exception):
    """The channel did not take the notification; `retryable` for network errors and 5xx/429."""

    def __init__(self, message: str, *, status_code: int | None = None, retryable: bool):
        super().__init__(message)
        self.status_code = status_code
        self.retryable = retryable


@dataclass
class Delivered:
    status_code: int | None


def webhook_body(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the exact body bytes>`, what the receiver recomputes to verify."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _PinnedConnection:
    """Connects to the address the target policy checked, whatever DNS says a moment later.

    TLS still verifies the certificate of the URL's host name (SNI uses `self.host`).
    """

    pinned: tuple[str, int]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = self._pinned_connection

    def _pinned_connection(self, address, *args, **kwargs):
        return socket.create_connection(self.pinned, *args, **kwargs)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would lead past the target check; receivers get one chance to answer.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _opener(pinned: tuple[str, int]) -> urllib.request.OpenerDirector:
    http_connection = type("PinnedHTTP", (_PinnedConnection, http.client.HTTPConnection), {"pinned": pinned})
    https_connection = type("PinnedHTTPS", (_PinnedConnection, http.client.HTTPSConnection), {"pinned": pinned})

    class PinnedHTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(http_connection, req)

    class PinnedHTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(https_connection, req, context=ssl.create_default_context())

    # No ProxyHandler: a proxy from the environment would be a way around the pinned address.
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), PinnedHTTPHandler, PinnedHTTPSHandler, _NoRedirects
    )


def _post(url: str, body: bytes, headers: dict[str, str]) -> Delivered:
    # Callers pass only http(s) URLs (checked by the services and again in `send`).
    try:
        pinned = targets.delivery_address(url)
    except targets.TargetRefused as exc:
        raise DeliveryFailed(f"target refused: {exc}", retryable=False) from None
    request = urllib.request.Request(url, data=body, method="POST", headers={"User-Agent": USER_AGENT, **headers})  # noqa: S310
    try:
        with _opener(pinned).open(request, timeout=TIMEOUT_SECONDS) as response:
            return Delivered(status_code=response.status)
    except urllib.error.HTTPError as exc:
        retryable = exc.code >= 500 or exc.code == 429
        raise DeliveryFailed(f"HTTP {exc.code} {exc.reason}", status_code=exc.code, retryable=retryable) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"network error: {type(reason).__name__}: {reason}"[:300], retryable=True) from None


def send(channel, message: dict, *, delivery_id: str) -> Delivered:
    """Deliver `message` through the channel; raises DeliveryFailed."""
    if not channel.url.startswith(("http://", "https://")) and channel.kind != ChannelKind.EMAIL:
        raise DeliveryFailed("the channel has no http(s) URL", retryable=False)
    if channel.kind == ChannelKind.WEBHOOK:
        body = webhook_body(message)
        return _post(channel.url, body, {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(channel.secret, body),
            "X-JBTestSuite-Event": message["event"],
            "X-JBTestSuite-Delivery": delivery_id,
        })  # fmt: skip
    if channel.kind == ChannelKind.SLACK:
        body = json.dumps(messages.slack_payload(message)).encode()
        return _post(channel.url, body, {"Content-Type": "application/json"})
    if channel.kind == ChannelKind.EMAIL:
        email = EmailMessage(
            subject=messages.email_subject(message),
            body=messages.email_body(message),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=list(channel.email_to),
        )
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"recipients refused: {', '.join(exc.recipients)}", retryable=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP error: {type(exc).__name__}: {exc}"[:300], retryable=True) from None
        return Delivered(status_code=None)
    raise DeliveryFailed(f"unknown channel kind {channel.kind!r}", retryable=False)
