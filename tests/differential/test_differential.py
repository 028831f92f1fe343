"""Differential test: every corpus case through stock Envoy 1.40 jwt_authn and through
`cilium-jwt check`, configured alike. Verdicts must be equal (status, body,
WWW-Authenticate), except the documented deliberate differences, where we must deny and
jwt_authn must allow (a stale entry fails the test, so the README list stays true)."""

import json
import subprocess
from pathlib import Path

import pytest

import corpus
import harness

README = harness.REPO / "README.md"


# Token locations: jwt_authn's defaults, and configured headers and parameters.
CONFIGS = {
    "default-locations": (None, corpus.build_cases),
    "custom-locations": (corpus.CUSTOM_LOCATIONS, corpus.build_location_cases),
}


@pytest.fixture(scope="module", params=list(CONFIGS))
def verdicts(request, tmp_path_factory):
    locations, build = CONFIGS[request.param]
    tmp = tmp_path_factory.mktemp(request.param)
    keys = corpus.Keys()
    jwks = harness.JwksServer(keys.jwks())
    cases = build(keys)
    port = harness.free_port()
    bootstrap = harness.jwt_authn_bootstrap(port, jwks.port, corpus.ISSUER, corpus.AUDIENCES, locations)
    envoy = harness.Envoy(bootstrap, port)
    try:
        policy = tmp / "policy.yaml"
        policy.write_text(harness.policy_yaml(corpus.ISSUER, jwks.url, corpus.AUDIENCES, locations))
        cases_file = tmp / "cases.jsonl"
        cases_file.write_text("".join(json.dumps(c) + "\n" for c in cases))
        ours_run = subprocess.run([harness.cilium_jwt_binary(), "check", "--policy", str(policy),
                                   "--cases", str(cases_file)], capture_output=True, text=True, timeout=120)
        assert ours_run.returncode == 0, ours_run.stderr
        ours = [json.loads(line) for line in ours_run.stdout.splitlines()]
        theirs = []
        for case in cases:
            status, headers, body = harness.http_request(port, case["path"], case["headers"])
            theirs.append({"id": case["id"], "status": status, "body": "" if status == 200 else body,
                           "www_authenticate": headers.get("www-authenticate")})
    finally:
        envoy.close()
        jwks.close()
    report = tmp / "report.jsonl"
    report.write_text("".join(json.dumps({"case": c["id"], "envoy": t, "cilium_jwt": o}) + "\n"
                              for c, t, o in zip(cases, theirs, ours)))
    print(f"differential report: {report}")
    return cases, theirs, ours


def test_output_is_one_line_per_case_in_order(verdicts):
    cases, _, ours = verdicts
    assert [o["id"] for o in ours] == [c["id"] for c in cases]
    assert len(cases) > 10


def test_same_verdicts_as_jwt_authn(verdicts):
    cases, theirs, ours = verdicts
    mismatches = []
    for case, envoy, mine in zip(cases, theirs, ours):
        if "deliberate" in case:
            continue
        got = (mine["status"], mine["body"], mine["www_authenticate"])
        want = (envoy["status"], envoy["body"], envoy["www_authenticate"])
        if got != want:
            mismatches.append(f"{case['id']}: jwt_authn {want} / cilium-jwt {got}")
    assert not mismatches, "\n".join(mismatches)


def test_deliberate_differences_are_stricter_and_real(verdicts):
    cases, theirs, ours = verdicts
    for case, envoy, mine in zip(cases, theirs, ours):
        if "deliberate" not in case:
            continue
        assert envoy["status"] == 200, f"{case['id']}: jwt_authn denies too; drop the 'deliberate' mark"
        assert mine["status"] == 401, f"{case['id']}: {mine}"


def test_never_allow_what_jwt_authn_denies(verdicts):
    cases, theirs, ours = verdicts
    for case, envoy, mine in zip(cases, theirs, ours):
        assert not (mine["status"] == 200 and envoy["status"] != 200), case["id"]


def test_every_deliberate_difference_is_documented():
    text = README.read_text()
    for key in corpus.DELIBERATE:
        assert f"`{key}`" in text, f"README lacks the deliberate difference `{key}`"
