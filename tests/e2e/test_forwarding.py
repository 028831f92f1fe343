"""What reaches the upstream: nothing before the verdict (the request body trap), and an
allowed request without its token unless `forward: true`."""

import threading
import time

import helpers

AUD = "Thales-accuknox-1st"


def rule(issuer, jwks_url, **extra):
    return {"provider": "AUTH0", "issuer": issuer, "jwksUrl": jwks_url, "audiences": [AUD], **extra}


def test_a_body_never_reaches_the_upstream_before_a_denial(procs, logs, idp, upstream):
    slow = helpers.JwksServer(delay=4)
    try:
        policy = helpers.policy_file(logs / "p.yaml", [rule(idp.issuer, slow.url)])
        envoy = helpers.Envoy(procs, logs, policy, upstream.port, engine={"maxWaitMs": 1000})
        body = b"x" * 200_000
        r = helpers.http(envoy.port, "/upload", method="POST", body=body, token=idp.token(AUD))
        assert (r.status, r.body) == (401, "Jwks remote fetch is failed"), r
        time.sleep(0.3)
        assert upstream.requests == [], "the request (or its body) reached the upstream before the verdict"
    finally:
        slow.close()


def test_a_large_body_is_held_then_forwarded_intact(procs, logs, idp, upstream):
    # The IdP's real keys, served slowly: the check waits, then allows.
    slow = helpers.JwksServer(idp.jwks(), delay=1.0)
    try:
        policy = helpers.policy_file(logs / "p.yaml", [rule(idp.issuer, slow.url)])
        envoy = helpers.Envoy(procs, logs, policy, upstream.port, engine={"maxWaitMs": 5000})
        body = bytes(range(256)) * 12_000  # ~3 MB: beyond Envoy's 1 MiB buffer, so flow control must hold it
        observed = {}

        def watch():
            deadline = time.time() + 10
            while not upstream.requests and time.time() < deadline:
                time.sleep(0.01)
            observed["first_upstream_at"] = time.time()

        watcher = threading.Thread(target=watch)
        started = time.time()
        watcher.start()
        r = helpers.http(envoy.port, "/upload", method="POST", body=body, token=idp.token(AUD))
        watcher.join()
        assert r.status == 200, r
        assert len(upstream.requests) == 1
        forwarded = upstream.requests[0]
        assert forwarded.body == body
        assert forwarded.header("authorization") == []
        assert observed["first_upstream_at"] - started > 0.5, "forwarded before the keys arrived"
    finally:
        slow.close()


def test_tokens_are_removed_unless_forwarded(procs, logs, idp, upstream):
    policy = helpers.policy_file(logs / "p.yaml", [rule(idp.issuer, idp.jwks_url)])
    envoy = helpers.Envoy(procs, logs, policy, upstream.port)
    token = idp.token(AUD)

    r = helpers.http(envoy.port, "/a?x=1", headers=[("x-other", "kept")], token=token)
    assert r.status == 200
    seen = upstream.requests[-1]
    assert seen.header("authorization") == []
    assert seen.header("x-other") == ["kept"]
    assert seen.path == "/a?x=1"

    r = helpers.http(envoy.port, f"/p?a=1&access_token={token}&b=2")
    assert r.status == 200
    assert upstream.requests[-1].path == "/p?a=1&b=2"

    r = helpers.http(envoy.port, f"/p?access_token={token}")
    assert r.status == 200
    assert upstream.requests[-1].path == "/p"


def test_forward_true_keeps_the_token(procs, logs, idp, upstream):
    policy = helpers.policy_file(logs / "p.yaml", [rule(idp.issuer, idp.jwks_url, forward=True)])
    envoy = helpers.Envoy(procs, logs, policy, upstream.port)
    token = idp.token(AUD)
    assert helpers.http(envoy.port, "/", token=token).status == 200
    assert upstream.requests[-1].header("authorization") == [f"Bearer {token}"]
    assert helpers.http(envoy.port, f"/q?access_token={token}").status == 200
    assert upstream.requests[-1].path == f"/q?access_token={token}"


def test_custom_header_location_is_removed(procs, logs, idp, upstream):
    policy = helpers.policy_file(logs / "p.yaml", [
        rule(idp.issuer, idp.jwks_url, fromHeaders=[{"name": "X-Client-Jwt", "valuePrefix": "Token "}])])
    envoy = helpers.Envoy(procs, logs, policy, upstream.port)
    token = idp.token(AUD)
    assert helpers.http(envoy.port, "/", token=token).status == 401  # Authorization is not a location here
    r = helpers.http(envoy.port, "/", headers=[("x-client-jwt", f"Token {token}"), ("authorization", "Basic abc")])
    assert r.status == 200, r
    seen = upstream.requests[-1]
    assert seen.header("x-client-jwt") == []
    assert seen.header("authorization") == ["Basic abc"]
