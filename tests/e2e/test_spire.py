"""The SPIRE variant (client-identity-spire.yaml): ES256 JWT-SVIDs from the IdP in spire
mode, a SPIFFE ID audience, tokens kept in the forwarded request."""

import base64
import json

import yaml

import helpers

AUDIENCE = "spiffe://example.org/webserver"


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_jwt_svids(procs, logs, upstream):
    idp = helpers.Idp(procs, logs, mode="spire")
    doc = yaml.safe_load((helpers.REPO / "tests/k8sT/manifests/client-identity-spire.yaml").read_text())
    rule = doc["spec"]["ingress"][0]["toPorts"][0]["rules"]["http"][0]["matchJWT"]
    assert rule["provider"] == "SPIRE" and rule["audiences"] == [AUDIENCE] and rule["forward"] is True
    rule["issuer"], rule["jwksUrl"] = idp.issuer, idp.jwks_url
    policy = logs / "spire.yaml"
    policy.write_text(yaml.safe_dump(doc))
    envoy = helpers.Envoy(procs, logs, policy, upstream.port)

    svid = idp.token(AUDIENCE, client="web")
    header = json.loads(base64.urlsafe_b64decode(svid.split(".")[0] + "=="))
    assert header["alg"] == "ES256"
    c = claims(svid)
    assert c["sub"] == "spiffe://example.org/ns/default/sa/web" and c["aud"] == [AUDIENCE]
    assert c["exp"] - c["iat"] == 300

    r = helpers.http(envoy.port, token=svid)
    assert r.status == 200, r
    assert upstream.requests[-1].header("authorization") == [f"Bearer {svid}"]  # forward: true

    not_spiffe = idp.mint({"aud": [AUDIENCE], "sub": "web@clients"})
    r = helpers.http(envoy.port, token=not_spiffe)
    assert (r.status, r.body) == (401, "Jwt verification fails")
    assert helpers.http(envoy.port, token=idp.token("spiffe://example.org/other")).status == 403
