"""What a stored file really is: its type from its bytes, and a filename safe to keep as data.

Binary formats are recognised by the `filetype` package (magic numbers). Anything it does not
recognise is text only if it is valid UTF-8 without control characters; then it is JSON when it
parses as an object or array, HTML (markup a browser would render) when it starts like a page, and
plain text otherwise. The client's header and extension never decide the type.
"""

from __future__ import annotations

import codecs
import json
import mimetypes
import re
import unicodedata
from pathlib import PurePosixPath

import filetype

OCTET_STREAM = "application/octet-stream"
TEXT_TYPES = ("text/plain", "text/html", "application/json")

# The extension stored files get, and what a client's extension claims about its content.
EXTENSION_FOR_TYPE = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/html": ".html",
    "application/json": ".json",
}
TYPE_FOR_EXTENSION = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".log": "text/plain",
    ".out": "text/plain",
    ".csv": "text/plain",
    ".md": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "text/html",
    ".json": "application/json",
    ".har": "application/json",
}

# Roughly the WHATWG MIME sniffing rules for HTML, plus XML and SVG, which can also run script.
_MARKUP_START = re.compile(
    r"^(?:<!doctype\s+html|<!--|<\?xml|<(?:html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p"
    r"|svg|meta|link|img|form|object|embed)[\s/>])",
    re.IGNORECASE,
)
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\x1b"}  # \x1b: colour codes in console logs
HEAD_SIZE = 8192


class TextSniffer:
    """Fed a file chunk by chunk, decides whether it is UTF-8 text without reading it twice."""

    def __init__(self):
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.is_text = True
        self.first_char = ""

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        if not self.is_text:
            return
        try:
            text = self._decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            self.is_text = False
            return
        if not self.first_char:
            stripped = text.lstrip("\ufeff \t\r\n\f")
            self.first_char = stripped[:1]
        if any(unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS for ch in text):
            self.is_text = False


def detect_binary(head: bytes) -> str | None:
    """The type of a known binary format from the file's first bytes, else None."""
    kind = filetype.guess(head)
    return kind.mime if kind else None


def detect_text(head: bytes, sniffer: TextSniffer, read_all) -> str:
    """text/plain, text/html or application/json for text; application/octet-stream otherwise.

    `read_all` returns the whole content; it is only called for what may be JSON.
    """
    if not sniffer.is_text:
        return OCTET_STREAM
    if sniffer.first_char in ("{", "["):
        try:
            json.loads(read_all().decode("utf-8-sig"))
        except ValueError:
            pass  # starts like JSON but is not: judged as other text below
        else:
            return "application/json"
    start = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n\f")
    if _MARKUP_START.match(start):
        return "text/html"
    return "text/plain"


def type_implied_by(filename: str) -> str | None:
    """The content type a filename's extension claims, or None when it claims nothing we know."""
    suffix = PurePosixPath(filename).suffix.lower()
    if not suffix:
        return None
    if suffix in TYPE_FOR_EXTENSION:
        return TYPE_FOR_EXTENSION[suffix]
    guessed, _ = mimetypes.guess_type(f"x{suffix}", strict=False)
    return guessed


def extension_agrees(filename: str, detected: str) -> bool:
    """False when the name claims another type than the content has (a `.png` holding HTML)."""
    implied = type_implied_by(filename)
    if implied is None or implied == detected:
        return True
    # JSON is text: a `.txt` or `.log` of JSON is what it says it is. HTML is not: it is active.
    return implied == "text/plain" and detected == "application/json"


def filename_clean(name: str | None, *, fallback: str) -> str:
    """The last path part of `name` without control, format or NUL characters, at most 255 long."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Category C: controls (NUL, CR, LF...), format characters (right-to-left overrides),
    # surrogates and unassigned code points.
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if not name:
        return fallback
    if len(name) > 255:
        suffix = PurePosixPath(name).suffix[:16]
        name = name[: 255 - len(suffix)] + suffix
    return name
