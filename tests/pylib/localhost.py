"""What every Python test of the project needs to run things on 127.0.0.1: free ports,
the project's binaries, and a JSON Web Key Set server (optionally slow)."""

import http.server
import json
import os
import socket
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CILIUM_JWT_TARGET", REPO / "target/release"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0, proc=None):
    """Waits until something accepts connections on 127.0.0.1:port."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.03)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def cilium_jwt_binary() -> str:
    """The release `cilium-jwt`, with the Envoy module built next to it."""
    path = os.environ.get("CILIUM_JWT_BIN") or str(TARGET / "cilium-jwt")
    if not os.access(path, os.X_OK) or not (Path(path).parent / "libcilium_jwt_envoy.so").exists():
        raise RuntimeError(f"{path} or libcilium_jwt_envoy.so missing: run `cargo build --release --workspace`")
    return path


def envoy_binary() -> str:
    path = os.environ.get("CILIUM_JWT_ENVOY") or str(Path.home() / ".cache/cilium-jwt/envoy-1.40.0/envoy")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"Envoy not found at {path}: run scripts/setup.sh")
    return path


class JwksServer:
    """Serves one key set document at /.well-known/jwks.json, after `delay` seconds
    (a delay longer than the client's timeout makes a provider that never answers)."""

    def __init__(self, document=None, delay: float = 0.0):
        body = json.dumps(document or {"keys": []}).encode()
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                time.sleep(delay)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
