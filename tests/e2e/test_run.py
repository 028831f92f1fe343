"""`cilium-jwt run`: the interface an outside harness relies on (validation, readiness,
signals, exit codes)."""

import os
import signal
import subprocess
import time

import helpers

AUD = "Thales-accuknox-1st"


def run_argv(policy, port, upstream_port, *extra):
    return [helpers.cilium_jwt(), "run", "--policy", policy, "--listen", f"127.0.0.1:{port}",
            "--upstream", f"127.0.0.1:{upstream_port}", "--concurrency", "1", *extra]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie counts as gone.
    with open(f"/proc/{pid}/status") as status:
        return "zombie" not in status.read()


def test_invalid_policy_is_rejected_before_envoy_starts(logs):
    policy = helpers.policy_file(logs / "p.yaml", [{"issuer": "https://idp/", "jwksUrl": "not a url"}])
    started = time.time()
    result = subprocess.run(run_argv(policy, helpers.free_port(), 9), capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "spec.ingress[0].toPorts[0].rules.http[0].matchJWT.jwksUrl: must be an absolute http(s) URL" in result.stderr
    assert time.time() - started < 5

    empty = logs / "empty.yaml"
    empty.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n")
    result = subprocess.run(run_argv(empty, helpers.free_port(), 9), capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "no matchJWT rule" in result.stderr


def test_bad_engine_options_are_reported_by_the_module(logs, idp):
    policy = helpers.policy_file(logs / "p.yaml", [{"issuer": idp.issuer, "jwksUrl": idp.jwks_url}])
    result = subprocess.run(run_argv(policy, helpers.free_port(), 9, "--engine-options", '{"maxWaitMs": -1}'),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "engine.maxWaitMs: must be an integer from 0 to 60000" in result.stderr, result.stderr


def test_sigterm_stops_envoy_and_exits_zero(procs, logs, idp, upstream):
    policy = helpers.policy_file(logs / "p.yaml", [{"issuer": idp.issuer, "jwksUrl": idp.jwks_url, "audiences": [AUD]}])
    envoy = helpers.Envoy(procs, logs, policy, upstream.port, concurrency=1)
    assert helpers.http(envoy.port, token=idp.token(AUD)).status == 200
    assert envoy.proc.stop(signal.SIGTERM) == 0
    deadline = time.time() + 5
    while pid_alive(envoy.pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not pid_alive(envoy.pid), "Envoy outlived cilium-jwt run"


def test_sigint_too(procs, logs, idp, upstream):
    policy = helpers.policy_file(logs / "p.yaml", [{"issuer": idp.issuer, "jwksUrl": idp.jwks_url}])
    envoy = helpers.Envoy(procs, logs, policy, upstream.port, concurrency=1)
    assert envoy.proc.stop(signal.SIGINT) == 0


def test_exits_nonzero_when_envoy_dies(procs, logs, idp, upstream):
    policy = helpers.policy_file(logs / "p.yaml", [{"issuer": idp.issuer, "jwksUrl": idp.jwks_url}])
    envoy = helpers.Envoy(procs, logs, policy, upstream.port, concurrency=1)
    os.kill(envoy.pid, signal.SIGKILL)
    assert envoy.proc.popen.wait(10) != 0
    assert "Envoy exited unexpectedly" in envoy.proc.output()


def test_envoy_dies_with_run_even_on_sigkill(procs, logs, idp, upstream):
    policy = helpers.policy_file(logs / "p.yaml", [{"issuer": idp.issuer, "jwksUrl": idp.jwks_url}])
    envoy = helpers.Envoy(procs, logs, policy, upstream.port, concurrency=1)
    envoy.proc.stop(signal.SIGKILL)
    deadline = time.time() + 5
    while pid_alive(envoy.pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not pid_alive(envoy.pid), "Envoy outlived a killed cilium-jwt run"


def test_jwt_authn_mode_enforces_the_same_policy(procs, logs, idp, upstream):
    policy = helpers.policy_file(logs / "p.yaml", [{"issuer": idp.issuer, "jwksUrl": idp.jwks_url, "audiences": [AUD]}])
    envoy = helpers.Envoy(procs, logs, policy, upstream.port, concurrency=1, jwt_authn=True)
    assert helpers.http(envoy.port).body == "Jwt is missing"
    assert helpers.http(envoy.port, token=idp.token(AUD)).status == 200
    assert helpers.http(envoy.port, token=idp.token("other")).status == 403
