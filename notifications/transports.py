"""The one module that sends notifications out: webhooks and Slack over HTTP, e-mail over SMTP.

Errors never carry the target URL or the secret: a Slack URL is itself a credential.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage

from notifications import message as messages
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


def _post(url: str, body: bytes, headers: dict[str, str]) -> Delivered:
    # Callers pass only http(s) URLs (checked by the services and again in `send`).
    request = urllib.request.Request(url, data=body, method="POST", headers={"User-Agent": USER_AGENT, **headers})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (http(s) only)
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
