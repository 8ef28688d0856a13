"""A logging front for Prism (GitHub's API description served as a mock).

Usage: python3 api_proxy.py LISTEN_PORT PRISM_URL LOG_FILE

Forwards every request to Prism unchanged but for one thing: Prism cannot route a path
parameter holding a slash (`git/ref/heads/main`, `git/matching-refs/tags/model/churn/`,
`contents/models/churn/production.yaml`), which GitHub's API takes. Here the rest of such a
path is sent with its slashes encoded (`heads%2Fmain`), which Prism routes and validates
like any other. Each request is logged as one JSON line: method, path as sent by the client,
Prism's status and, for a 4xx/5xx, Prism's answer (a 422 names what broke GitHub's schema).
"""

import http.client
import http.server
import json
import re
import sys
import threading
import urllib.parse

SLASHED = re.compile(
    r"^(/repos/[^/]+/[^/]+/(?:git/(?:ref|refs|matching-refs)|contents)/)([^?]+)(\?.*)?$"
)
HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


def main():
    port, upstream, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    target = urllib.parse.urlsplit(upstream)
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else None
            path = self.path
            m = SLASHED.match(path)
            if m:
                path = m[1] + m[2].replace("/", "%2F") + (m[3] or "")
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                conn.request(self.command, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status, resp_headers = resp.status, resp.getheaders()
            except OSError as e:
                status, resp_headers, data = 502, [], f"proxy: {e}".encode()
            finally:
                conn.close()
            entry = {"method": self.command, "path": self.path, "status": status}
            if status >= 400:
                entry["answer"] = data[:2000].decode("utf-8", "replace")
            with lock, open(log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")
            self.send_response(status)
            for k, v in resp_headers:
                if k.lower() not in HOP:
                    self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = forward

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
