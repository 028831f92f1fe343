"""Processes and wire helpers of the end-to-end tests: everything on 127.0.0.1, free
ports, logs kept per process and printed when a test fails.

Real components only: Envoy 1.40 (started by `cilium-jwt run`) with our module, our
identity provider (`cilium-jwt idp`), and a recording upstream."""

import http.client as httplib
import http.server as httpserver
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import requests
import yaml

from localhost import REPO, TARGET, JwksServer, free_port, wait_port  # noqa: F401
from localhost import cilium_jwt_binary as cilium_jwt  # noqa: F401

# Measurements printed at the end of the run (load numbers).
REPORTS = []


class Proc:
    """A child process with its output in a log file."""

    def __init__(self, name: str, argv, log_dir: Path, env=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log = log_dir / f"{name}.log"
        self._env = env
        self.popen = None
        self.start()

    def start(self):
        with self.log.open("a") as log:
            log.write(f"$ {' '.join(self.argv)}\n")
            log.flush()
            self.popen = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env=dict(os.environ, **(self._env or {})), start_new_session=True)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.alive():
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Recorded:
    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body
        self.at = time.time()

    def header(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]


class Upstream:
    """A recording HTTP/1.1 upstream: answers 200 "upstream ok", echoing what it saw in
    `x-seen-path` and `x-seen-authorization`."""

    def __init__(self):
        self.requests = []
        recorded = self.requests

        class Handler(httpserver.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _read_body(self):
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    body = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return body
                        body += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("content-length") or 0))

            def _answer(self):
                body = self._read_body()
                recorded.append(Recorded(self.command, self.path, list(self.headers.items()), body))
                reply = b"upstream ok\n"
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(reply)))
                self.send_header("x-seen-path", self.path)
                self.send_header("x-seen-authorization", self.headers.get("authorization", "<none>")[:40])
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = do_PUT = do_HEAD = _answer

            def log_message(self, *args):
                pass

        self.server = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status, self.headers, self.body, self.elapsed = status, headers, body, elapsed

    def header(self, name):
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return values[0] if values else None

    def all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def __repr__(self):
        return f"<{self.status} {self.body[:80]!r} {self.headers}>"


def http(port: int, path: str = "/", headers=(), method: str = "GET", body: bytes = None, token: str = None,
         timeout: float = 15.0) -> Response:
    """One request with exactly these headers (repeats allowed)."""
    started = time.time()
    conn = httplib.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        all_headers = list(headers)
        if token is not None:
            all_headers.append(("authorization", f"Bearer {token}"))
        if body is not None:
            all_headers.append(("content-length", str(len(body))))
        for name, value in all_headers:
            conn.putheader(name, value)
        conn.endheaders()
        if body is not None:
            conn.send(body)
        response = conn.getresponse()
        data = response.read().decode("utf-8", "replace")
        return Response(response.status, response.getheaders(), data, time.time() - started)
    finally:
        conn.close()


class Idp:
    """`cilium-jwt idp` as a process, with its token endpoints as methods."""

    def __init__(self, procs, log_dir: Path, mode="auth0", keys_dir=None, extra=(), name="idp"):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/"
        self.jwks_url = f"{self.issuer}.well-known/jwks.json"
        argv = [cilium_jwt(), "idp", "--listen", f"127.0.0.1:{self.port}", "--issuer", self.issuer,
                "--mode", mode, "--allow-test-tokens", *extra]
        if keys_dir is not None:
            argv += ["--keys-dir", keys_dir]
        self.proc = procs.add(Proc(name, argv, log_dir))
        wait_port(self.port, proc=self.proc.popen)
        self.session = requests.Session()
        self.session.trust_env = False

    def restart(self):
        self.proc.start()
        wait_port(self.port, proc=self.proc.popen)

    def stop(self):
        self.proc.stop()

    def token(self, audience: str, client="e2e-client", secret="cilium-jwt-lab-secret") -> str:
        reply = self.session.post(f"http://127.0.0.1:{self.port}/oauth/token", timeout=10, json={
            "grant_type": "client_credentials", "client_id": client, "client_secret": secret, "audience": audience})
        reply.raise_for_status()
        return reply.json()["access_token"]

    def mint(self, claims=None, expires_in=None) -> str:
        request = {"claims": claims or {}}
        if expires_in is not None:
            request["expiresIn"] = expires_in
        reply = self.session.post(f"http://127.0.0.1:{self.port}/test/token", json=request, timeout=10)
        reply.raise_for_status()
        return reply.json()["access_token"]

    def rotate(self) -> dict:
        reply = self.session.post(f"http://127.0.0.1:{self.port}/admin/rotate", timeout=10)
        reply.raise_for_status()
        return reply.json()

    def jwks(self) -> dict:
        return self.session.get(self.jwks_url, timeout=10).json()


def kid_of(token: str) -> str:
    import base64
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def policy_file(path: Path, rules) -> Path:
    """A CiliumNetworkPolicy whose HTTP rules on port 7070 are these matchJWT objects."""
    doc = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "e2e", "namespace": "default"},
        "spec": {
            "endpointSelector": {"matchLabels": {"component": "webserver"}},
            "ingress": [{"toPorts": [{
                "ports": [{"port": "7070", "protocol": "TCP"}],
                "rules": {"http": [{"matchJWT": rule} for rule in rules]},
            }]}],
        },
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


class Envoy:
    """`cilium-jwt run`: Envoy enforcing a policy in front of an upstream."""

    def __init__(self, procs, log_dir: Path, policy: Path, upstream_port: int, concurrency=2, engine=None,
                 jwt_authn=False, jwt_cache=False, no_auth=False, name="envoy", log_level="warning", cpus=None):
        self.port = free_port()
        self.work = log_dir / f"{name}-work"
        argv = [cilium_jwt(), "run", "--policy", policy, "--listen", f"127.0.0.1:{self.port}",
                "--upstream", f"127.0.0.1:{upstream_port}", "--concurrency", concurrency,
                "--work-dir", self.work, "--envoy-log-level", log_level]
        if engine is not None:
            argv += ["--engine-options", json.dumps(engine)]
        if jwt_authn:
            argv.append("--jwt-authn")
        if jwt_cache:
            argv.append("--jwt-cache")
        if no_auth:
            argv.append("--no-auth")
        if cpus is not None:
            argv = ["taskset", "-c", cpus, *argv]  # inherited by Envoy
        self.proc = procs.add(Proc(name, argv, log_dir))
        wait_port(self.port, timeout=30, proc=self.proc.popen)
        self.pid = self._envoy_pid()

    def _envoy_pid(self) -> int:
        deadline = time.time() + 10
        while time.time() < deadline:
            pids = re.findall(r"Envoy pid (\d+)", self.proc.output())  # the log may hold earlier runs
            if pids:
                return int(pids[-1])
            time.sleep(0.05)
        raise RuntimeError("cilium-jwt run did not report Envoy's pid")

    def admin(self) -> str:
        return (self.work / "admin-address").read_text().strip()

    def stats(self, prefix="") -> dict:
        text = requests.get(f"http://{self.admin()}/stats", params={"filter": prefix}, timeout=10,
                            proxies={"http": None}).text
        return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")
