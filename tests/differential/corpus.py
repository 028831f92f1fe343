"""A differential corpus: keys generated now, a JWKS for them, and request cases that
probe every rule of Envoy's jwt_authn (formats, algorithms, key selection, time, issuer,
audience, token locations, JSON quirks).

Each case is a dict: {"id", "path", "headers": [[name, value], ...], "deliberate": key?}.
`deliberate` names an entry of DELIBERATE: a case where we knowingly deny what jwt_authn
allows. Every other case must get jwt_authn's exact status, body and WWW-Authenticate.
"""

import base64
import hashlib
import hmac
import json
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ISSUER = "https://idp.corpus.test/"
AUDIENCES = ["Thales-accuknox-1st", "https://svc.corpus.test/"]
HOST = "webserver.corpus.test:7070"

# Deliberate differences (README "Deliberate differences from jwt_authn"): we deny, jwt_authn allows.
DELIBERATE = {
    "empty-sections": "a token with empty dot-separated sections (h..p.s) is not a compact JWS",
    "lenient-json": "header/payload JSON must be RFC 8259 (no unquoted keys, single quotes, trailing commas, raw control characters)",
    "crit": "a `crit` header names extensions we do not implement (RFC 7515 4.1.11)",
    "alg-key-mismatch": "the token's alg must fit the key's type and curve (no HMAC under an RS256 label, no ES384 on a P-256 key)",
    "no-exp": "tokens without `exp` never expire; refused like jwt_authn's require_expiration",
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64_json(value) -> str:
    return b64(value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode())


def _int_bytes(value: int, size: int = 0) -> bytes:
    return value.to_bytes(size or (value.bit_length() + 7) // 8, "big")


class Keys:
    """Signing keys of every supported type, generated at construction."""

    def __init__(self):
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = {
            "P-256": ec.generate_private_key(ec.SECP256R1()),
            "P-384": ec.generate_private_key(ec.SECP384R1()),
            "P-521": ec.generate_private_key(ec.SECP521R1()),
        }
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.oct = hashlib.sha256(str(time.time_ns()).encode()).digest()
        self.attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def rsa_jwk(self, key, kid):
        numbers = key.public_key().public_numbers()
        return {"kty": "RSA", "kid": kid, "n": b64(_int_bytes(numbers.n)), "e": b64(_int_bytes(numbers.e))}

    def jwks(self):
        """The provider's key set. The order matters to jwt_authn (the Ed25519 key sits
        before the oct key, so kid-less HMAC tokens meet it first)."""
        keys = [self.rsa_jwk(self.rsa, "rsa")]
        for crv, key in self.ec.items():
            numbers = key.public_key().public_numbers()
            size = (key.curve.key_size + 7) // 8
            jwk = {"kty": "EC", "crv": crv, "kid": crv.lower(),
                   "x": b64(_int_bytes(numbers.x, size)), "y": b64(_int_bytes(numbers.y, size))}
            if crv == "P-384":
                jwk["alg"] = "ES384"
            keys.append(jwk)
        raw = self.ed.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        keys.append({"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": b64(raw)})
        keys.append({"kty": "oct", "kid": "oct", "k": b64(self.oct)})
        return {"keys": keys}

    def sign(self, alg: str, data: bytes, key=None) -> bytes:
        bits = alg[2:]
        hash_alg = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}.get(bits)
        if alg.startswith("RS"):
            return (key or self.rsa).sign(data, padding.PKCS1v15(), hash_alg())
        if alg.startswith("PS"):
            h = hash_alg()
            return (key or self.rsa).sign(data, padding.PSS(padding.MGF1(h), h.digest_size), h)
        if alg.startswith("ES"):
            curve = {"256": "P-256", "384": "P-384", "512": "P-521"}[bits]
            signer = key or self.ec[curve]
            size = (signer.curve.key_size + 7) // 8
            r, s = utils.decode_dss_signature(signer.sign(data, ec.ECDSA(hash_alg())))
            return _int_bytes(r, size) + _int_bytes(s, size)
        if alg.startswith("HS"):
            return hmac.new(key or self.oct, data, getattr(hashlib, "sha" + bits)).digest()
        if alg == "EdDSA":
            return self.ed.sign(data)
        raise ValueError(alg)

    def token(self, header, claims, alg=None, key=None) -> str:
        alg = alg or header.get("alg")
        signed = f"{b64_json(header)}.{b64_json(claims)}"
        return f"{signed}.{b64(self.sign(alg, signed.encode(), key))}"


def claims(**overrides):
    now = int(time.time())
    c = {"iss": ISSUER, "sub": "client@clients", "aud": AUDIENCES[0], "iat": now, "exp": now + 3600}
    for name, value in overrides.items():
        if value is DROP:
            c.pop(name, None)
        else:
            c[name] = value
    return c


DROP = object()
KID_OF = {"RS": "rsa", "PS": "rsa", "ES256": "p-256", "ES384": "p-384", "ES512": "p-521", "Ed": "ed", "HS": "oct"}


def kid_for(alg):
    return KID_OF.get(alg) or KID_OF.get(alg[:2])


def build_cases(keys: Keys):
    """Returns the list of cases."""
    now = int(time.time())
    cases = []

    def add(case_id, token=None, path="/", headers=None, deliberate=None, bearer=True):
        hs = [["host", HOST]]
        if token is not None:
            hs.append(["authorization", f"Bearer {token}" if bearer else token])
        hs.extend(headers or [])
        case = {"id": case_id, "path": path, "headers": hs}
        if deliberate:
            assert deliberate in DELIBERATE, deliberate
            case["deliberate"] = deliberate
        cases.append(case)

    def signed(alg="RS256", kid="auto", **claim_overrides):
        header = {"alg": alg, "typ": "JWT"}
        if kid == "auto":
            kid = kid_for(alg)
        if kid is not None:
            header["kid"] = kid
        return keys.token(header, claims(**claim_overrides))

    def raw(header_part, payload_part, sig_part):
        return f"{header_part}.{payload_part}.{sig_part}"

    good = signed()
    h, p, s = good.split(".")

    # Every algorithm, with and without kid.
    for alg in ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                "EdDSA", "HS256", "HS384", "HS512"]:
        add(f"alg-{alg}", signed(alg))
        add(f"alg-{alg}-no-kid", signed(alg, kid=None))
    add("missing", None)
    add("missing-lowercase-bearer", f"bearer {good}", bearer=False)
    add("missing-basic", "Basic dXNlcjpwYXNz", bearer=False)

    # Time: skew edges (60 s default), with a margin of seconds between generation and checking.
    add("exp-past-within-skew", signed(exp=now - 30))
    add("exp-past-beyond-skew", signed(exp=now - 120))
    add("exp-fraction", signed(exp=now + 100.7))
    add("exp-string", signed(exp=str(now + 100)))
    add("exp-negative", signed(exp=-5))
    add("exp-huge", signed(exp=1e20))
    add("exp-null", signed(exp=None))
    add("exp-absent", signed(exp=DROP), deliberate="no-exp")
    add("exp-truncates-to-zero", signed(exp=0.9), deliberate="no-exp")
    add("nbf-future-within-skew", signed(nbf=now + 30))
    add("nbf-future-beyond-skew", signed(nbf=now + 120))
    add("nbf-and-exp-bad", signed(nbf=now + 120, exp=now - 120))
    add("iat-future", signed(iat=now + 100000))
    add("iat-string", signed(iat="yesterday"))

    # Issuer and audience, in check order.
    add("iss-wrong", signed(iss="https://evil.test/"))
    add("iss-no-trailing-slash", signed(iss=ISSUER.rstrip("/")))
    add("iss-absent", signed(iss=DROP))
    add("iss-number", signed(iss=5))
    add("iss-wrong-and-expired", signed(iss="https://evil.test/", exp=now - 3600))
    add("aud-wrong", signed(aud="someone-else"))
    add("aud-list-one-match", signed(aud=["x", AUDIENCES[0]]))
    add("aud-normalised-scheme", signed(aud="http://svc.corpus.test"))
    add("aud-normalised-slash", signed(aud="svc.corpus.test/"))
    add("aud-double-slash", signed(aud="https://svc.corpus.test//"))
    add("aud-case", signed(aud=AUDIENCES[0].upper()))
    add("aud-absent", signed(aud=DROP))
    add("aud-empty-list", signed(aud=[]))
    add("aud-not-strings", signed(aud=[AUDIENCES[0], 7]))
    add("aud-wrong-and-expired", signed(aud="nobody", exp=now - 3600))
    add("aud-wrong-bad-signature", raw(*signed(aud="nobody").split(".")[:2], s))
    add("sub-number", signed(sub=12))
    add("jti-object", signed(jti={"a": 1}))

    # Signatures and key selection.
    add("sig-tampered", raw(h, p, s[:-6] + ("AAAAAA" if not s.endswith("AAAAAA") else "BBBBBB")))
    add("sig-truncated", raw(h, p, s[:-20]))
    add("sig-other-token", raw(h, p, signed(sub="other").split(".")[2]))
    add("payload-swapped", raw(h, b64_json(claims(sub="admin")), s))
    add("sig-empty", f"{h}.{p}.")
    add("sig-bad-base64", raw(h, p, s[:-4] + "!!!!"))
    add("sig-whitespace", f"{h}.{p}.{s[:10]} {s[10:]}")
    add("sig-padded", f"{h}.{p}.{s}==" if len(s) % 4 == 2 else f"{h}.{p}.{s}=" if len(s) % 4 == 3 else f"{h}.{p}.{s}")
    add("kid-unknown", signed(kid="no-such-kid"))
    add("kid-number", keys.token({"alg": "RS256", "kid": 7}, claims(), alg="RS256"))
    add("alg-none", raw(b64_json({"alg": "none"}), p, ""))
    add("alg-none-with-sig", raw(b64_json({"alg": "none"}), p, s))
    add("alg-lowercase", keys.token({"alg": "rs256", "kid": "rsa"}, claims(), alg="RS256"))
    add("alg-missing", raw(b64_json({"kid": "rsa"}), p, s))
    add("alg-number", raw(b64_json({"alg": 256}), p, s))
    add("alg-label-mismatch-pss", keys.token({"alg": "PS256", "kid": "rsa"}, claims(), alg="RS256"))
    add("hs256-with-rsa-public-key",
        keys.token({"alg": "HS256", "kid": "rsa"}, claims(), key=_int_bytes(keys.rsa.public_key().public_numbers().n)))
    add("hs256-no-kid-meets-ed25519-first", signed("HS256", kid=None))
    add("rs256-bad-sig-no-kid", raw(b64_json({"alg": "RS256"}), p, s[:-6] + "AAAAAA"))
    add("ecdsa-r-s-zero", raw(b64_json({"alg": "ES256", "kid": "p-256"}), p, b64(bytes(64))))
    add("ecdsa-wrong-length", raw(b64_json({"alg": "ES256", "kid": "p-256"}), p, b64(bytes(10))))
    add("es384-label-on-p256-key", keys.token({"alg": "ES384", "kid": "p-256"}, claims(), key=keys.ec["P-256"]),
        deliberate="alg-key-mismatch")
    add("rs256-label-hmac-signature-on-oct", keys.token({"alg": "RS256", "kid": "oct"}, claims(), alg="HS256"),
        deliberate="alg-key-mismatch")
    add("es256-label-on-p384-alg-key", signed("ES256", kid="p-384"))
    attacker_jwk = keys.rsa_jwk(keys.attacker, "attacker")
    for extra in ["jwk", "jku", "x5u", "x5c"]:
        header = {"alg": "RS256", "kid": "attacker",
                  extra: attacker_jwk if extra == "jwk" else (["MIIB"] if extra == "x5c" else "http://127.0.0.1:9/jwks")}
        add(f"embedded-{extra}", keys.token(header, claims(), key=keys.attacker))
    add("embedded-jwk-known-kid", keys.token({"alg": "RS256", "kid": "rsa", "jwk": attacker_jwk}, claims(), key=keys.attacker))

    # Format, base64 and JSON.
    add("format-one-section", "abc")
    add("format-two-sections", f"{h}.{p}")
    add("format-four-sections", f"{good}.{s}")
    add("format-empty-sections", f"{h}..{p}.{s}", deliberate="empty-sections")
    add("format-leading-dot", f".{good}", deliberate="empty-sections")
    add("header-bad-base64", raw("@@@@", p, s))
    add("header-plus-slash", raw(h.replace("-", "+").replace("_", "/") + "+/", p, s))
    add("header-not-json", raw(b64(b"not json"), p, s))
    add("header-array", raw(b64(b"[1,2]"), p, s))
    add("header-null", raw(b64(b"null"), p, s))
    add("header-duplicate-alg", raw(b64(b'{"alg":"none","alg":"RS256"}'), p, s))
    add("payload-bad-base64", raw(h, "****", s))
    add("payload-not-json", raw(h, b64(b"{nope"), s))
    add("payload-array", raw(h, b64(b"[]"), s))
    add("payload-trailing-garbage", raw(h, b64(json.dumps(claims()).encode() + b"x"), s))
    add("payload-invalid-utf8", raw(h, b64(b'{"iss":"\xff"}'), s))
    add("payload-lone-surrogate", raw(h, b64(b'{"x":"\\ud800"}'), s))
    add("payload-number-overflow", raw(h, b64(b'{"x":1e400}'), s))

    def signed_payload(payload: bytes, kid="rsa"):
        header = b64_json({"alg": "RS256", "kid": kid})
        signed_part = f"{header}.{b64(payload)}"
        return f"{signed_part}.{b64(keys.sign('RS256', signed_part.encode()))}"

    base = json.dumps(claims())
    add("json-duplicate-claim", signed_payload(base[:-1].encode() + b',"exp":1}'))
    add("json-duplicate-escaped", signed_payload(base[:-1].encode() + b',"\\u0065xp":1}'))
    add("json-duplicate-nested", signed_payload(base[:-1].encode() + b',"x":{"a":1,"a":2}}'))
    add("json-depth-100", signed_payload(base[:-1].encode() + b',"x":' + b"[" * 99 + b"1" + b"]" * 99 + b"}"))
    add("json-depth-101", signed_payload(base[:-1].encode() + b',"x":' + b"[" * 100 + b"1" + b"]" * 100 + b"}"))
    add("json-payload-null", signed_payload(b"null"))
    add("json-unquoted-key", signed_payload(base[:-1].encode() + b",x:1}"), deliberate="lenient-json")
    add("json-trailing-comma", signed_payload(base[:-1].encode() + b",}"), deliberate="lenient-json")
    add("json-escapes", signed_payload(base[:-1].encode() + b',"x":"\\u00e9\\ud83d\\ude00\\/"}'))
    add("crit-header", keys.token({"alg": "RS256", "kid": "rsa", "crit": ["exp"], "exp": 1}, claims()), deliberate="crit")
    add("big-token-16k", signed(pad="x" * 16000))
    add("big-token-40k", signed(pad="y" * 40000))

    # Token locations.
    add("loc-query", None, path=f"/api?access_token={good}")
    add("loc-query-percent-encoded", None, path=f"/api?access_token={good.replace('.', '%2E')}")
    add("loc-query-plus", None, path=f"/api?access_token={good}+")
    add("loc-query-empty", None, path="/api?access_token")
    add("loc-query-empty-value", None, path="/api?access_token=&x=1")
    add("loc-query-second-ignored", None, path=f"/api?access_token={good}&access_token=garbage")
    add("loc-query-wrong-case", None, path=f"/api?ACCESS_TOKEN={good}")
    add("loc-query-semicolon", None, path=f"/api?a=1;access_token={good}")
    add("loc-header-and-query-bad", good, path=f"/api?access_token={signed(exp=now - 3600)}")
    add("loc-header-bad-and-query", signed(exp=now - 3600), path=f"/api?access_token={good}")
    add("loc-basic-then-bearer", f"Basic abc, Bearer {good}", bearer=False)
    add("loc-prefix-inside-word", f"xBearer {good}", bearer=False)
    add("loc-trailing-junk", f"{good} junk")
    add("loc-trailing-comma", f"{good},foo")
    add("loc-leading-junk", f":;{good}")
    add("loc-bearer-no-token", "Bearer !!!", bearer=False)
    add("loc-repeated-authorization", good, headers=[["authorization", f"Bearer {good}"]])
    add("loc-repeated-basic-then-bearer", "Basic x", bearer=False, headers=[["authorization", f"Bearer {good}"]])
    add("realm-long-path", None, path="/" + "p" * 300)
    add("realm-query", None, path="/a/b?c=d&e")
    add("realm-forwarded-proto", None, headers=[["x-forwarded-proto", "https"]])
    return cases


# Configured locations: a custom header without prefix, Authorization with one, a parameter.
CUSTOM_LOCATIONS = {"headers": [("X-Jwt", ""), ("Authorization", "Bearer ")], "params": ["token"]}


def build_location_cases(keys: Keys):
    """Cases for CUSTOM_LOCATIONS: every entry of a custom header is a token; locations are
    visited sorted (authorization before x-jwt, then parameters); all tokens must pass."""
    now = int(time.time())
    good = keys.token({"alg": "ES256", "kid": "p-256"}, claims())
    expired = keys.token({"alg": "ES256", "kid": "p-256"}, claims(exp=now - 3600))
    wrong_aud = keys.token({"alg": "ES256", "kid": "p-256"}, claims(aud="nobody"))
    host = ["host", HOST]
    cases = [
        ("x-jwt", "/", [["x-jwt", good]]),
        ("x-jwt-with-bearer-word", "/", [["x-jwt", f"Bearer {good}"]]),
        ("x-jwt-two-entries-good-bad", "/", [["x-jwt", good], ["x-jwt", expired]]),
        ("x-jwt-two-entries-bad-good", "/", [["x-jwt", wrong_aud], ["x-jwt", good]]),
        ("authorization-bearer", "/", [["authorization", f"Bearer {good}"]]),
        ("authorization-without-prefix", "/", [["authorization", good]]),
        ("param-token", f"/x?token={good}", []),
        ("param-access-token-not-configured", f"/x?access_token={good}", []),
        ("x-jwt-expired-authorization-good", "/", [["x-jwt", expired], ["authorization", f"Bearer {good}"]]),
        ("authorization-expired-x-jwt-good", "/", [["authorization", f"Bearer {expired}"], ["x-jwt", good]]),
        ("authorization-expired-x-jwt-wrong-aud", "/", [["authorization", f"Bearer {expired}"], ["x-jwt", wrong_aud]]),
        ("param-expired-header-good", f"/x?token={expired}", [["x-jwt", good]]),
        ("all-three-good", f"/x?token={good}", [["x-jwt", good], ["authorization", f"Bearer {good}"]]),
        ("none", "/", []),
    ]
    return [{"id": case_id, "path": path, "headers": [host] + headers} for case_id, path, headers in cases]
