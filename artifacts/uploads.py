"""Multipart uploads that stop at MAX_UPLOAD_SIZE instead of reading the whole body first.

Two gates: a declared Content-Length far above the limit is refused before a byte is read, and
`UploadSizeGuard` (first in the handler chain) stops parsing as soon as more file bytes than the
limit have arrived, so Django's own handlers never hold or spool more than that.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from rest_framework.parsers import MultiPartParser

from artifacts.services import payload_too_large

# Room for the multipart boundaries, part headers and the small form fields beside the file.
MULTIPART_OVERHEAD = 64 * 1024


class UploadSizeGuard(FileUploadHandler):
    """Counts file bytes as they stream past and stops the upload once `limit` is passed."""

    chunk_size = 64 * 1024

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            # connection_reset: do not read (and discard) the rest of the body either.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


class SizeLimitedMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        limit = settings.MAX_UPLOAD_SIZE
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit + MULTIPART_OVERHEAD:
            raise payload_too_large(limit)
        guard = UploadSizeGuard(request._request, limit=limit)
        request._request.upload_handlers = [guard, *request._request.upload_handlers]
        parsed = super().parse(stream, media_type, parser_context)
        if guard.exceeded:
            raise payload_too_large(limit)
        return parsed
