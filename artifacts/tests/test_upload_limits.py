"""A too-large upload is refused while it streams in: never read, held or spooled whole."""

import json
import tracemalloc

import pytest
from django.test import RequestFactory
from django.test.client import ClientHandler
from rest_framework_simplejwt.tokens import AccessToken

from artifacts import uploads
from artifacts.models import Artifact
from artifacts.tests.conftest import MULTIPART, PNG, files_in

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


class LazyMultipartBody:
    """A multipart request body of `size` file bytes, generated as it is read and never held."""

    def __init__(self, fields: dict[str, str], size: int):
        head = "".join(
            f'--jbtsboundary\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        head += '--jbtsboundary\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'
        self._head = head.encode() + PNG
        self._tail = b"\r\n--jbtsboundary--\r\n"
        self._filler = size - len(PNG)
        self.length = len(self._head) + self._filler + len(self._tail)
        self.position = 0

    def read(self, size=-1):
        if size is None or size < 0:
            size = self.length - self.position
        size = min(size, self.length - self.position)
        start, end = self.position, self.position + size
        self.position = end
        out = bytearray()
        head_end, tail_start = len(self._head), len(self._head) + self._filler
        if start < head_end:
            out += self._head[start : min(end, head_end)]
        if end > head_end and start < tail_start:
            out += b"\x00" * (min(end, tail_start) - max(start, head_end))
        if end > tail_start:
            out += self._tail[max(start, tail_start) - tail_start : end - tail_start]
        return bytes(out)

    def readline(self, size=-1):
        return self.read(size if size and size > 0 else 64 * 1024)


def post_streamed(user, body: LazyMultipartBody):
    environ = RequestFactory()._base_environ(
        PATH_INFO="/api/v1/artifacts/",
        REQUEST_METHOD="POST",
        CONTENT_TYPE=MULTIPART,
        CONTENT_LENGTH=str(body.length),
        HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}",
        **{"wsgi.input": body},
    )
    tracemalloc.start()
    try:
        response = ClientHandler()(environ)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response, peak


def test_it_refuses_a_declared_large_body_before_reading_it(editor, execution, settings, upload_dir):
    settings.MAX_UPLOAD_SIZE = 1 * MiB
    body = LazyMultipartBody({"execution": str(execution.pk)}, size=200 * MiB)

    response, peak = post_streamed(editor, body)

    assert response.status_code == 413
    assert body.position == 0  # not one byte of the body was read
    assert peak < 8 * MiB
    assert files_in(upload_dir) == []


def test_it_stops_reading_once_the_file_passes_the_limit(editor, execution, settings, upload_dir, tmp_path,
                                                          monkeypatch):  # fmt: skip
    # A body whose length is not declared honestly small enough for the first gate: the upload
    # handler has to stop it while it streams.
    settings.MAX_UPLOAD_SIZE = 1 * MiB
    monkeypatch.setattr(uploads, "MULTIPART_OVERHEAD", 1024 * MiB)
    seen = []
    original = uploads.UploadSizeGuard.receive_data_chunk

    def counting(self, raw_data, start):
        seen.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(uploads.UploadSizeGuard, "receive_data_chunk", counting)
    body = LazyMultipartBody({"execution": str(execution.pk)}, size=200 * MiB)

    response, peak = post_streamed(editor, body)

    assert response.status_code == 413
    assert json.loads(response.content)["error"] == "PayloadTooLarge"
    assert sum(seen) <= 1 * MiB + uploads.UploadSizeGuard.chunk_size
    assert body.position < 2 * MiB  # stopped reading: the other 198 MiB were never touched
    assert peak < 8 * MiB
    assert files_in(upload_dir) == []
    assert files_in(tmp_path / "spool") == []  # the spooled part is gone too
    assert not Artifact.objects.exists()


def test_it_accepts_a_file_right_at_the_limit(editor, execution, settings, upload_dir):
    settings.MAX_UPLOAD_SIZE = 3 * MiB  # above FILE_UPLOAD_MAX_MEMORY_SIZE: spooled to disk, then moved
    body = LazyMultipartBody({"execution": str(execution.pk), "kind": "screenshot"}, size=3 * MiB)

    response, peak = post_streamed(editor, body)

    assert response.status_code == 201, response.content
    assert json.loads(response.content)["size"] == 3 * MiB
    (stored,) = files_in(upload_dir)
    assert stored.stat().st_size == 3 * MiB
    assert peak < 3 * MiB
