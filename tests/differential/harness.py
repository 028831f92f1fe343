"""Processes and wire helpers of the differential tests: Envoy 1.40 with its own
jwt_authn filter, and a raw HTTP/1.1 client (raw, so repeated headers and odd paths reach
Envoy exactly as written)."""

import json
import os
import socket
import subprocess
import tempfile
from pathlib import Path

from localhost import REPO, JwksServer, cilium_jwt_binary, envoy_binary, free_port, wait_port  # noqa: F401


def jwt_authn_bootstrap(listen_port: int, jwks_port: int, issuer: str, audiences, locations=None) -> dict:
    """Envoy with jwt_authn configured like one matchJWT rule: one provider, remote JWKS,
    forward false, and the token locations of `locations` ({"headers": [(name, prefix)],
    "params": [name]}; None: jwt_authn's defaults, `Authorization: Bearer`/`access_token`)."""
    provider_locations = {}
    if locations:
        provider_locations = {
            "from_headers": [{"name": name, "value_prefix": prefix} for name, prefix in locations["headers"]],
            "from_params": list(locations["params"]),
        }
    return {
        "static_resources": {
            "listeners": [{
                "name": "ingress",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": listen_port}},
                "filter_chains": [{"filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                        "stat_prefix": "ingress",
                        "route_config": {"virtual_hosts": [{
                            "name": "all", "domains": ["*"],
                            "routes": [{"match": {"prefix": "/"},
                                        "direct_response": {"status": 200, "body": {"inline_string": "workload"}}}],
                        }]},
                        "http_filters": [
                            {"name": "envoy.filters.http.jwt_authn",
                             "typed_config": {
                                 "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
                                 "providers": {"matchjwt": {
                                     **provider_locations,
                                     "issuer": issuer,
                                     "audiences": list(audiences),
                                     "remote_jwks": {
                                         "http_uri": {"uri": f"http://127.0.0.1:{jwks_port}/.well-known/jwks.json",
                                                      "cluster": "jwks", "timeout": "5s"},
                                         "cache_duration": "600s"},
                                 }},
                                 "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "matchjwt"}}],
                             }},
                            {"name": "envoy.filters.http.router",
                             "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}},
                        ],
                    },
                }]}],
            }],
            "clusters": [{
                "name": "jwks", "type": "STATIC", "connect_timeout": "2s",
                "load_assignment": {"cluster_name": "jwks", "endpoints": [{"lb_endpoints": [{"endpoint": {
                    "address": {"socket_address": {"address": "127.0.0.1", "port_value": jwks_port}}}}]}]},
            }],
        },
    }


class Envoy:
    """An Envoy process with a given bootstrap; waits until the listener accepts."""

    def __init__(self, bootstrap: dict, port: int, extra_env=None, concurrency: int = 1):
        self.dir = tempfile.TemporaryDirectory(prefix="envoy-")
        config = Path(self.dir.name) / "bootstrap.json"
        config.write_text(json.dumps(bootstrap))
        self.log = Path(self.dir.name) / "envoy.log"
        env = dict(os.environ, **(extra_env or {}))
        self.proc = subprocess.Popen(
            [envoy_binary(), "-c", str(config), "--concurrency", str(concurrency), "--log-level", "warn",
             "--base-id", str(port), "--disable-hot-restart"],
            stdout=self.log.open("w"), stderr=subprocess.STDOUT, env=env)
        self.port = port
        try:
            wait_port(port, 30, self.proc)
        except RuntimeError as error:
            log = self.log.read_text()[-4000:]
            self.close()
            raise RuntimeError(f"{error}: {log}") from None

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.dir.cleanup()


def http_request(port: int, path: str, headers, timeout: float = 10.0):
    """Sends one GET with exactly these header lines; returns (status, headers, body)."""
    lines = [f"GET {path} HTTP/1.1"] + [f"{name}: {value}" for name, value in headers] + ["connection: close", "", ""]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall("\r\n".join(lines).encode())
        data = b""
        # Read to the end of the body (by content-length), not to EOF: Envoy delays its close.
        while True:
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                               if line.lower().startswith(b"content-length:")), None)
                if length is not None and len(rest) >= length:
                    break
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    response_headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        response_headers.setdefault(name.strip().lower(), value.strip())
    return status, response_headers, body.decode("utf-8", "replace")


def policy_yaml(issuer: str, jwks_url: str, audiences, locations=None) -> str:
    """The same provider as a CiliumNetworkPolicy with one matchJWT rule."""
    auds = "".join(f"\n            - {json.dumps(a)}" for a in audiences)
    if locations:
        auds += "\n            fromHeaders:" + "".join(
            f"\n            - {{name: {json.dumps(name)}, valuePrefix: {json.dumps(prefix)}}}"
            for name, prefix in locations["headers"])
        auds += "\n            fromParams: " + json.dumps(list(locations["params"]))
    return f"""apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: differential
  namespace: default
spec:
  endpointSelector:
    matchLabels:
      component: webserver
  ingress:
  - toPorts:
    - ports:
      - port: "7070"
        protocol: TCP
      rules:
        http:
        - matchJWT:
            provider: OIDC
            issuer: {json.dumps(issuer)}
            jwksUrl: {json.dumps(jwks_url)}
            audiences:{auds}
"""
