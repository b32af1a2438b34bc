"""The one way a stored file leaves the server: the API's download and the admin's file view."""

from __future__ import annotations

import structlog
from django.http import FileResponse, Http404

from artifacts.models import Artifact

logger = structlog.get_logger(__name__)

# Only images are shown in the page; anything else is downloaded. Every response is also
# sandboxed and unsniffable, so an uploaded HTML page can never run script in our origin.
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
SANDBOX_POLICY = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def artifact_file_response(artifact: Artifact) -> FileResponse:
    """Stream the artifact's file; Http404 when the storage has lost it."""
    try:
        handle = artifact.file.storage.open(artifact.file.name, "rb")
    except (FileNotFoundError, OSError):
        logger.error("artifact_file_missing", artifact_id=str(artifact.pk), file=artifact.file.name)
        raise Http404("The artifact's file is missing.") from None
    inline = artifact.content_type in INLINE_TYPES
    content_type = artifact.content_type
    if content_type.startswith("text/") or content_type == "application/json":
        content_type += "; charset=utf-8"
    response = FileResponse(
        handle, content_type=content_type, as_attachment=not inline, filename=artifact.original_filename
    )
    response["Content-Length"] = str(artifact.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_POLICY
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-cache"
    return response
