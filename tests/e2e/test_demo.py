"""The seed's How-To (client-identity.yaml: AUTH0, two audiences), asserted against a real
Envoy with our module, our IdP and a recording upstream; and `cilium-jwt demo` itself."""

import subprocess

import yaml

import helpers

AUDIENCES = ["Thales-accuknox-1st", "Thales-accuknox-2nd"]


def seed_policy(path, idp):
    """tests/k8sT/manifests/client-identity.yaml, pointed at the local IdP."""
    doc = yaml.safe_load((helpers.REPO / "tests/k8sT/manifests/client-identity.yaml").read_text())
    rule = doc["spec"]["ingress"][0]["toPorts"][0]["rules"]["http"][0]["matchJWT"]
    assert rule["provider"] == "AUTH0" and rule["audiences"] == AUDIENCES
    rule["issuer"], rule["jwksUrl"] = idp.issuer, idp.jwks_url
    path.write_text(yaml.safe_dump(doc))
    return path


def test_seed_how_to(procs, logs, idp, upstream):
    envoy = helpers.Envoy(procs, logs, seed_policy(logs / "policy.yaml", idp), upstream.port)

    # No token: 401 from Envoy, the workload never sees the request.
    r = helpers.http(envoy.port, "/")
    assert (r.status, r.body) == (401, "Jwt is missing")
    assert r.header("www-authenticate") == f'Bearer realm="http://127.0.0.1:{envoy.port}/"'
    assert r.all("content-type") == ["text/plain"]
    assert r.header("x-envoy-upstream-service-time") is None
    assert upstream.requests == []

    # A token from the IdP for either audience: 200 from the workload, without the token.
    for audience in AUDIENCES:
        r = helpers.http(envoy.port, "/", token=idp.token(audience))
        assert (r.status, r.body) == (200, "upstream ok\n"), r
    assert len(upstream.requests) == 2
    assert all(req.header("authorization") == [] for req in upstream.requests)

    # Another audience: 403.
    r = helpers.http(envoy.port, "/x?y=1", token=idp.token("another-service"))
    assert (r.status, r.body) == (403, "Audiences in Jwt are not allowed")
    assert r.header("www-authenticate") == f'Bearer realm="http://127.0.0.1:{envoy.port}/x?y=1", error="invalid_token"'

    # Expired (beyond the 60 s skew): 401.
    r = helpers.http(envoy.port, "/", token=idp.mint({"aud": AUDIENCES[0]}, expires_in=-3600))
    assert (r.status, r.body) == (401, "Jwt is expired")
    assert len(upstream.requests) == 2


def test_demo_command():
    result = subprocess.run([helpers.cilium_jwt(), "demo"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for expected in ["$ curl -i http://127.0.0.1:", "HTTP/1.1 401 Unauthorized", "Jwt is missing",
                     "HTTP/1.1 200 OK", "hello from the webserver", "HTTP/1.1 403 Forbidden",
                     "Audiences in Jwt are not allowed", "Jwt is expired", "rewritten to the local IdP",
                     "Done: every answer was as expected."]:
        assert expected in out, expected
    assert "UNEXPECTED" not in out
