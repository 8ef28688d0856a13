#!/usr/bin/env python3
"""A minimal AWS Lambda Runtime API emulator that timestamps what the function does.

It serves the part of the Runtime API (2018-06-01) a runtime client uses:

    GET  /2018-06-01/runtime/invocation/next           the next event (long poll)
    POST /2018-06-01/runtime/invocation/{id}/response  the event's answer
    POST /2018-06-01/runtime/invocation/{id}/error     the event's failure
    POST /2018-06-01/runtime/init/error                a failed initialisation

`next` hands out the event with the headers Lambda sends (Lambda-Runtime-Aws-Request-Id,
-Deadline-Ms, -Invoked-Function-Arn, -Trace-Id). Every moment is taken with
time.perf_counter_ns() in this process: when the first `next` of a function arrives (its
init is over), when an event is handed out (just before its bytes are written), when
its answer has been read in full. One function at a time: `reset()` starts a new one,
and a `next` still waiting from the function before can no longer take an event.

In a program: `api = RuntimeApi(); api.start(); inv = api.invoke(event); inv.wait(60)`.
Standalone, for trying a function by hand:

    emulator.py PORT EVENT.json [EVENT.json ...]

serves on 127.0.0.1:PORT (AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT for the function), hands
out each event in turn and prints each answer with its latency.
"""

import json
import re
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:bench"
NEXT = re.compile(r"^/2018-06-01/runtime/invocation/next$")
ANSWER = re.compile(r"^/2018-06-01/runtime/invocation/([^/]+)/(response|error)$")
INIT_ERROR = "/2018-06-01/runtime/init/error"


class Invocation:
    """One event and what became of it."""

    def __init__(self, event, deadline_ms):
        self.request_id = str(uuid.uuid4())
        self.body = json.dumps(event).encode()
        self.deadline_ms = deadline_ms
        self.handed_ns = None  # the event's bytes were about to be written
        self.done_ns = None  # its answer was read in full
        self.kind = None  # "response" or "error"
        self.answer = None  # the bytes posted
        self.error_type = None  # Lambda-Runtime-Function-Error-Type, for errors
        self._done = threading.Event()

    def wait(self, timeout):
        return self._done.wait(timeout)

    @property
    def latency_ms(self):
        return (self.done_ns - self.handed_ns) / 1e6

    def finish(self, kind, answer, error_type=None):
        self.done_ns = time.perf_counter_ns()
        self.kind, self.answer, self.error_type = kind, answer, error_type
        self._done.set()


class RuntimeApi:
    def __init__(self, host="127.0.0.1", port=0, deadline_s=900):
        self.deadline_s = deadline_s
        self._cond = threading.Condition()
        self._generation = 0
        self._pending = []  # invocations not handed out yet
        self._running = {}  # request id -> invocation handed out, not answered
        self.first_next_ns = None
        self.nexts = 0
        self.init_error = None
        self.unexpected = []  # requests outside the API
        self.stale_answers = []  # answers for request ids not running
        api = self

        class Handler(RuntimeHandler):
            pass

        Handler.api = api
        self.errors = []  # exceptions in the server's threads, other than a closed connection
        self.server = Server((host, port), Handler)
        self.server.errors = self.errors
        self.address = "%s:%d" % self.server.server_address[:2]

    def start(self):
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        return self

    def stop(self):
        self.reset()
        self.server.shutdown()
        self.server.server_close()

    def reset(self):
        """A new function: forget the last one's state; its waiting `next` gives up."""
        with self._cond:
            self._generation += 1
            self._pending.clear()
            self._running.clear()
            self.first_next_ns = None
            self.nexts = 0
            self.init_error = None
            self._cond.notify_all()

    def invoke(self, event):
        """Queues an event; the returned Invocation's wait() tells when it is answered."""
        deadline_ms = int(time.time() * 1000) + self.deadline_s * 1000
        inv = Invocation(event, deadline_ms)
        with self._cond:
            self._pending.append(inv)
            self._cond.notify_all()
        return inv

    # The handler's side.

    def take_next(self, alive):
        """Blocks until an event is queued; None when the function was replaced."""
        with self._cond:
            generation = self._generation
            if self.first_next_ns is None:
                self.first_next_ns = time.perf_counter_ns()
            self.nexts += 1
            self._cond.notify_all()
            while not self._pending:
                if self._generation != generation or not alive():
                    return None
                self._cond.wait(0.5)
            if self._generation != generation:
                return None
            inv = self._pending.pop(0)
            self._running[inv.request_id] = inv
            return inv

    def answered(self, request_id, kind, body, error_type):
        with self._cond:
            inv = self._running.pop(request_id, None)
        if inv is None:
            self.stale_answers.append((request_id, kind, body[:200]))
            return False
        inv.finish(kind, body, error_type)
        return True

    def wait_first_next(self, timeout):
        end = time.monotonic() + timeout
        with self._cond:
            while self.first_next_ns is None and self.init_error is None:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
            return True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    errors = None

    def handle_error(self, request, client_address):
        # A function killed mid-connection resets it: expected, not an error.
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            self.errors.append(repr(error))
            super().handle_error(request, client_address)


class RuntimeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the Runtime API does
    disable_nagle_algorithm = True  # no 40 ms stalls between small writes
    api = None  # set per server

    def log_message(self, *args):
        pass

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, body=b"", headers=()):
        lines = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("",))[0])]
        lines += ["%s: %s" % h for h in headers]
        lines += ["Content-Length: %d" % len(body), "", ""]
        data = "\r\n".join(lines).encode("latin-1") + body
        return data

    def _connection_alive(self):
        # A function killed while it waits in `next` leaves its socket readable (EOF).
        try:
            self.connection.setblocking(False)
            try:
                return self.connection.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                return True
            finally:
                self.connection.setblocking(True)
        except OSError:
            return False

    def do_GET(self):
        api = self.api
        if not NEXT.match(self.path):
            api.unexpected.append(("GET", self.path))
            self.wfile.write(self._send(404, b'{"errorMessage":"not found"}'))
            return
        inv = api.take_next(self._connection_alive)
        if inv is None:
            self.close_connection = True
            try:
                self.wfile.write(self._send(410, b'{"errorMessage":"function replaced"}'))
            except OSError:
                pass
            return
        headers = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", inv.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(inv.deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN),
            ("Lambda-Runtime-Trace-Id", "Root=1-%08x-%s;Parent=%s;Sampled=0"
             % (int(time.time()), uuid.uuid4().hex[:24], uuid.uuid4().hex[:16])),
        ]
        data = self._send(200, inv.body, headers)
        inv.handed_ns = time.perf_counter_ns()
        self.wfile.write(data)

    def do_POST(self):
        api = self.api
        body = self._body()
        m = ANSWER.match(self.path)
        if m:
            error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
            known = api.answered(m.group(1), m.group(2), body, error_type)
            status = 202 if known else 400
            self.wfile.write(self._send(status, b'{"status":"OK"}' if known else b'{"errorMessage":"unknown request id"}'))
            return
        if self.path == INIT_ERROR:
            with api._cond:
                api.init_error = (self.headers.get("Lambda-Runtime-Function-Error-Type"), body)
                api._cond.notify_all()
            self.wfile.write(self._send(202, b'{"status":"OK"}'))
            return
        api.unexpected.append(("POST", self.path))
        self.wfile.write(self._send(404, b'{"errorMessage":"not found"}'))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    api = RuntimeApi(port=int(sys.argv[1])).start()
    print(f"Runtime API on {api.address}; waiting for the function's first `next`", file=sys.stderr)
    if not api.wait_first_next(600):
        sys.exit("no function asked for an event within 10 minutes")
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            inv = api.invoke(json.load(f))
        while not inv.wait(1):
            if api.init_error:
                sys.exit(f"init error: {api.init_error}")
        print(f"{path}: {inv.kind} in {inv.latency_ms:.1f} ms: {inv.answer.decode(errors='replace')}")
        if inv.kind != "response":
            sys.exit(1)
    api.stop()


if __name__ == "__main__":
    main()
