"""A stand-in for OpenAI's API on 127.0.0.1: Chat Completions and (minimally) Responses.

It answers what the official client sends (JSON bodies, Bearer auth) in OpenAI's shapes: a
chat.completion with `choices[0].message.content` and `usage`, a `response` object with `output_text`
content and `usage`, and OpenAI's error body. Tests queue behaviours with `script(...)`: "ok" (default),
"429" (rate limited, with retry-after 0), "500", "slow" (sleeps past the client's timeout), "not_json"
(content that is not the JSON asked for). Every request is recorded in `requests`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _error(kind: str, message: str) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


class FakeOpenAI:
    def __init__(self, slow_s: float = 3.0) -> None:
        self.requests: list[dict] = []
        self.behaviours: deque[str] = deque()
        self.slow_s = slow_s
        self.prompt_tokens = 1200
        self.completion_tokens = 150
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *behaviours: str) -> None:
        self.behaviours.extend(behaviours)

    def _answer_text(self, body: dict) -> str:
        messages = body.get("messages") or [{"content": body.get("input", "")}]
        prompt = messages[-1]["content"] if isinstance(messages[-1].get("content"), str) else ""
        wanted = re.search(r"N = (\d+)", prompt)
        n = int(wanted.group(1)) if wanted else 1
        if "Article:" in prompt:
            return json.dumps({"summary": "A fake summary of the article.", "sentences": list(range(1, n + 1))})
        return "# Digest\n\nA fake digest written by the model."

    def _reply(self, path: str, body: dict) -> tuple[int, dict, dict]:
        behaviour = self.behaviours.popleft() if self.behaviours else "ok"
        if behaviour == "429":
            return 429, _error("rate_limit_exceeded", "Rate limit reached (fake)."), {"retry-after": "0"}
        if behaviour == "500":
            return 500, _error("server_error", "The server had an error (fake)."), {}
        if behaviour == "slow":
            time.sleep(self.slow_s)
        text = "this is not json" if behaviour == "not_json" else self._answer_text(body)
        usage = {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                 "total_tokens": self.prompt_tokens + self.completion_tokens}
        if path.endswith("/responses"):
            message = {"type": "message", "id": "msg_fake", "role": "assistant", "status": "completed",
                       "content": [{"type": "output_text", "text": text, "annotations": []}]}
            return 200, {"id": "resp_fake", "object": "response", "created_at": int(time.time()),
                         "status": "completed", "model": body.get("model"), "output": [message],
                         "usage": {"input_tokens": self.prompt_tokens, "output_tokens": self.completion_tokens,
                                   "total_tokens": usage["total_tokens"]}}, {}
        return 200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                     "model": body.get("model"), "choices": [{"index": 0, "finish_reason": "stop",
                                                               "message": {"role": "assistant", "content": text}}],
                     "usage": usage}, {}

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else "{}"
                body = json.loads(raw or "{}")
                fake.requests.append({"path": self.path, "body": body,
                                      "authorization": self.headers.get("Authorization")})
                if self.path not in ("/v1/chat/completions", "/v1/responses"):
                    status, reply, headers = 404, _error("not_found", f"Unknown path {self.path}"), {}
                elif not (self.headers.get("Authorization") or "").startswith("Bearer "):
                    status, reply, headers = 401, _error("invalid_api_key", "No API key (fake)."), {}
                else:
                    status, reply, headers = fake._reply(self.path, body)
                data = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        return Handler
