"""The content rules on their own, without storage or database."""

import pytest

from artifacts import detection


@pytest.mark.parametrize(
    ("filename", "detected", "agrees"),
    [
        ("shot.png", "image/png", True),
        ("shot.PNG", "image/png", True),
        ("shot.png", "text/html", False),
        ("photo.jpeg", "image/jpeg", True),
        ("photo.jpg", "image/png", False),
        ("console.log", "application/json", True),
        ("notes.txt", "text/html", False),
        ("page.htm", "text/html", True),
        ("logo.svg", "text/html", False),
        ("no-extension", "text/html", True),
        ("weird.zzqq", "text/plain", True),
    ],
)
def test_it_checks_the_extension_against_the_content(filename, detected, agrees):
    assert detection.extension_agrees(filename, detected) is agrees


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"hello\nworld\n", "text/plain"),
        (b"\xef\xbb\xbf  <!doctype html><p>hi", "text/html"),
        (b"\n\n<HTML>", "text/html"),
        (b"<?xml version='1.0'?><svg/>", "text/html"),
        (b"<!-- comment -->", "text/html"),
        (b"a < b and <p> later is still text", "text/plain"),
        (b'  {"a": [1, 2]}', "application/json"),
        (b"{not json", "text/plain"),
        (b"caf\xc3\xa9", "text/plain"),
        (b"caf\xe9", "application/octet-stream"),  # latin-1, not UTF-8
        (b"a\x00b", "application/octet-stream"),
        (b"a\x7fb", "application/octet-stream"),
    ],
)
def test_it_classifies_text(content, expected):
    sniffer = detection.TextSniffer()
    # Split mid-character to prove the decoder carries state across chunks.
    for chunk in (content[:4], content[4:]):
        sniffer.feed(chunk)
    sniffer.feed(b"", final=True)
    assert detection.detect_text(content, sniffer, lambda: content) == expected


def test_it_leaves_binary_formats_to_filetype():
    assert detection.detect_binary(b"%PDF-1.7\n") == "application/pdf"
    assert detection.detect_binary(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert detection.detect_binary(b"<html>") is None
