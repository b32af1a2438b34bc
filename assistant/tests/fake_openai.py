"""An OpenAI-compatible chat server on 127.0.0.1 with scripted answers, for tests and benches.

The real `openai` client talks to it over HTTP. Each scripted answer is one of:
- a dict or list: sent as the message's JSON content (or as the forced tool call's arguments);
- a str: sent as the content as is (e.g. broken JSON);
- Status(code): an HTTP error with an OpenAI-style error body;
- Delay(seconds, answer): the answer, after a pause (to make the client time out);
- a callable(request_body_dict) returning any of the above (answers that read the page).
Every request body is kept, raw, in `requests`, so tests can search what was sent.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Status:
    code: int
    message: str = "scripted error"
    retry_after: str = "0"


@dataclass
class Delay:
    seconds: float
    answer: Any


class ScriptedModel:
    def __init__(self):
        self.script: list[Any] = []
        self.requests: list[bytes] = []
        self.fallback: Any = None  # answered when the script is empty
        self.lock = threading.Lock()
        self.url = ""

    def queue(self, *answers: Any) -> None:
        with self.lock:
            self.script.extend(answers)

    def reset(self) -> None:
        with self.lock:
            self.script.clear()
            self.requests.clear()
            self.fallback = None

    def next_answer(self, body: dict) -> Any:
        with self.lock:
            answer = self.script.pop(0) if self.script else self.fallback
        while callable(answer):
            answer = answer(body)
        return answer

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(raw) for raw in self.requests]


def _prompt_tokens(body: dict) -> int:
    """About what a real model would count: 4 characters a token, a low-detail image 85 tokens."""
    images = 0
    messages = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, list):
            images += sum(1 for part in content if part.get("type") == "image_url")
            content = [part for part in content if part.get("type") != "image_url"]
        messages.append({**message, "content": content})
    return max(1, len(json.dumps(messages)) // 4 + 85 * images)


def _completion(body: dict, content: str) -> dict:
    prompt_tokens = _prompt_tokens(body)
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        message = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": name, "arguments": content}},
        ]}  # fmt: skip
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": max(1, len(content) // 4),
            "total_tokens": prompt_tokens + max(1, len(content) // 4),
        },
    }


def _handler(model: ScriptedModel):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            return

        def _send(self, code: int, payload: dict, headers: dict | None = None) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timed out) first

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with model.lock:
                model.requests.append(raw)
            if not self.path.endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                return
            body = json.loads(raw)
            answer = model.next_answer(body)
            if isinstance(answer, Delay):
                time.sleep(answer.seconds)
                answer = answer.answer
            if isinstance(answer, Status):
                error = {"error": {"message": answer.message, "type": "scripted", "code": str(answer.code)}}
                self._send(answer.code, error, {"retry-after": answer.retry_after})
                return
            if answer is None:
                self._send(500, {"error": {"message": "the script is empty", "type": "scripted"}})
                return
            content = answer if isinstance(answer, str) else json.dumps(answer)
            self._send(200, _completion(body, content))

    return Handler


@contextlib.contextmanager
def scripted_model_served() -> Iterator[ScriptedModel]:
    """Yield a ScriptedModel whose `url` (…/v1) is the base URL to give the openai client."""
    model = ScriptedModel()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(model))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="scripted-model")
    thread.start()
    model.url = f"http://127.0.0.1:{server.server_port}/v1"
    try:
        yield model
    finally:
        server.shutdown()
        server.server_close()
