"""Key sets in a running Envoy: rotation at the IdP, IdP outages, a slow IdP."""

import threading
import time

import helpers

AUD = "Thales-accuknox-1st"
FAST_RETRY = {"maxWaitMs": 1000, "minFetchIntervalMs": 200, "maxRetryIntervalMs": 500, "kidRefetchIntervalMs": 500}


def rule(idp_or_issuer, jwks_url=None, **extra):
    issuer = getattr(idp_or_issuer, "issuer", idp_or_issuer)
    return {"provider": "AUTH0", "issuer": issuer, "jwksUrl": jwks_url or idp_or_issuer.jwks_url,
            "audiences": [AUD], **extra}


def test_rotation_is_picked_up_without_restarting_envoy(procs, logs, idp, upstream):
    envoy = helpers.Envoy(procs, logs, helpers.policy_file(logs / "p.yaml", [rule(idp)]), upstream.port,
                          engine=FAST_RETRY)
    old = idp.token(AUD)
    assert helpers.http(envoy.port, token=old).status == 200

    rotated = idp.rotate()
    new = idp.token(AUD)
    assert helpers.kid_of(new) == rotated["kid"] != helpers.kid_of(old)
    assert [k["kid"] for k in idp.jwks()["keys"]] == [helpers.kid_of(new), helpers.kid_of(old)]
    r = helpers.http(envoy.port, token=new)
    assert r.status == 200, r
    assert r.elapsed < 2.0, f"the unknown kid should trigger one prompt refetch, took {r.elapsed:.2f}s"
    # Tokens of the previous key stay valid during the grace period.
    assert helpers.http(envoy.port, token=idp.mint({"aud": AUD})).status == 200
    assert helpers.http(envoy.port, token=old).status == 200

    time.sleep(0.6)  # past kidRefetchIntervalMs
    idp.rotate()
    assert helpers.http(envoy.port, token=idp.token(AUD)).status == 200


def test_scheduled_rotation(procs, logs, upstream):
    idp = helpers.Idp(procs, logs, extra=["--rotate-every", "1", "--grace", "60"])
    envoy = helpers.Envoy(procs, logs, helpers.policy_file(logs / "p.yaml", [rule(idp)]), upstream.port,
                          engine=FAST_RETRY)
    first = idp.token(AUD)
    assert helpers.http(envoy.port, token=first).status == 200
    deadline = time.time() + 5
    second = idp.token(AUD)
    while helpers.kid_of(second) == helpers.kid_of(first) and time.time() < deadline:
        time.sleep(0.1)
        second = idp.token(AUD)
    assert helpers.kid_of(second) != helpers.kid_of(first), "the IdP did not rotate on schedule"
    assert helpers.http(envoy.port, token=second).status == 200


def test_cached_keys_keep_working_while_the_idp_is_down(procs, logs, idp, upstream):
    envoy = helpers.Envoy(procs, logs, helpers.policy_file(logs / "p.yaml", [rule(idp)]), upstream.port,
                          engine=FAST_RETRY)
    assert helpers.http(envoy.port, token=idp.token(AUD)).status == 200
    unused = [idp.token(AUD, client=f"client-{i}") for i in range(3)]  # never verified yet
    idp.stop()
    for token in unused:
        r = helpers.http(envoy.port, token=token)
        assert r.status == 200, r
    assert helpers.http(envoy.port, token=tampered(unused[0])).status in (401, 403)


def tampered(token):
    # Payload changed: the cached keys must still reject it.
    header, payload, signature = token.split(".")
    return f"{header}.{payload[:-4]}AAAA.{signature}"


def test_cold_start_with_the_idp_down_fails_closed_then_recovers(procs, logs, upstream):
    idp = helpers.Idp(procs, logs, keys_dir=logs / "keys")
    token = idp.token(AUD)
    idp.stop()
    envoy = helpers.Envoy(procs, logs, helpers.policy_file(logs / "p.yaml", [rule(idp)]), upstream.port,
                          engine=FAST_RETRY)
    r = helpers.http(envoy.port, token=token)
    assert (r.status, r.body) == (401, "Jwks remote fetch is failed"), r
    assert r.elapsed < 2.5
    assert upstream.requests == []

    idp.restart()  # same port, same keys
    deadline = time.time() + 10
    while True:
        r = helpers.http(envoy.port, token=token)
        if r.status == 200 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert r.status == 200, f"no recovery after the IdP came back: {r}"


def test_slow_idp_fails_closed_at_the_bound_and_the_worker_keeps_serving(procs, logs, idp, upstream):
    slow = helpers.JwksServer(delay=8)
    try:
        slow_issuer = "https://slow-idp.test/"
        policy = helpers.policy_file(logs / "p.yaml", [rule(slow_issuer, slow.url), rule(idp)])
        envoy = helpers.Envoy(procs, logs, policy, upstream.port, concurrency=1,
                              engine={"maxWaitMs": 1500, "fetchTimeoutMs": 5000})
        fast_token = idp.token(AUD)
        assert helpers.http(envoy.port, token=fast_token).status == 200  # the fast IdP's keys are cached
        slow_token = idp.mint({"iss": slow_issuer, "aud": AUD})

        results = {}

        def slow_request():
            results["slow"] = helpers.http(envoy.port, token=slow_token)

        waiting = threading.Thread(target=slow_request)
        waiting.start()
        time.sleep(0.3)  # the slow request is now parked on the only worker
        during = [helpers.http(envoy.port, token=fast_token), helpers.http(envoy.port)]
        still_waiting = waiting.is_alive()
        waiting.join(10)

        assert still_waiting, "the slow request should still be waiting for keys"
        # Answered while the slow request still held the only worker: it never blocked it.
        assert during[0].status == 200 and during[0].elapsed < 1.0, during[0]
        assert during[1].status == 401 and during[1].body == "Jwt is missing" and during[1].elapsed < 1.0
        r = results["slow"]
        assert (r.status, r.body) == (401, "Jwks remote fetch is failed"), r
        assert 1.3 < r.elapsed < 4.0, f"should fail closed at maxWaitMs=1500, took {r.elapsed:.2f}s"
        assert slow.hits >= 1
    finally:
        slow.close()
