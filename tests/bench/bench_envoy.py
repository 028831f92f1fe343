#!/usr/bin/env python3
"""Throughput and latency of Envoy 1.40 (one worker) in front of the same upstream, in one
run on one machine: no authentication (the ceiling), jwt_authn without and with its
token cache, and our module. Not a test: it measures, checks that every answer was the
expected one, and writes tests/bench/RESULTS.md.

Workloads (wrk, 16 connections): one reused RS256 token; a stream of distinct ES256
tokens (pre-minted, more than any cache holds, cycled by the Lua script, so no cache
hits); no token at all.

    . scripts/env.sh && $CILIUM_JWT_VENV/bin/python tests/bench/bench_envoy.py [--duration 10] [--rounds 3]
"""

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import helpers  # noqa: E402

AUD = "Thales-accuknox-1st"
CONFIGS = [
    ("none", "Envoy, no auth (ceiling)", {"no_auth": True}),
    ("jwt_authn", "Envoy + jwt_authn", {"jwt_authn": True}),
    ("jwt_authn_cache", "Envoy + jwt_authn + jwt_cache_config", {"jwt_authn": True, "jwt_cache": True}),
    ("module", "Envoy + cilium-jwt module", {}),
]
WORKLOADS = [
    ("reused", "one reused RS256 token"),
    ("distinct", "distinct ES256 tokens (no cache hits)"),
    ("missing", "no token"),
]

CYCLE_SCRIPT = """
local tokens = {}
for line in io.lines("%s") do tokens[#tokens + 1] = line end
local threads = 0
setup = function(thread) thread:set("offset", threads * 7919); threads = threads + 1 end
local n = 0
init = function(args) n = offset end
request = function()
  n = n + 1
  return wrk.format("GET", "/", {["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1]})
end
"""


class Registry:
    def __init__(self):
        self.all = []

    def add(self, proc):
        self.all.append(proc)
        return proc


def to_ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pinned(argv, cpus):
    return ["taskset", "-c", cpus, *argv] if cpus else argv


def wrk(port, seconds, connections, script=None, cpus=None):
    argv = pinned(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"], cpus)
    if script:
        argv += ["-s", str(script)]
    out = subprocess.run(argv + [f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
                         timeout=seconds + 60, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99_ms": to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "requests": requests,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per cell (the median is reported)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=20000, help="distinct ES256 tokens (more than any cache)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "RESULTS.md")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin Envoy to CPU 0 and wrk + upstream to the other CPUs")
    args = parser.parse_args()
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2
    envoy_cpus = "0" if pin else None
    load_cpus = f"1-{os.cpu_count() - 1}" if pin else None

    # SIGTERM ends the run like Ctrl-C: the `finally` below stops every process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"cilium-jwt-bench-{os.getpid()}"
    work.mkdir(parents=True)
    procs = Registry()
    results = {}
    try:
        web_port = helpers.free_port()
        procs.add(helpers.Proc("webserver", pinned([helpers.cilium_jwt(), "webserver", "--listen",
                                                    f"127.0.0.1:{web_port}"], load_cpus), work))
        helpers.wait_port(web_port)
        rs_idp = helpers.Idp(procs, work, mode="auth0", name="idp-rs256")
        es_idp = helpers.Idp(procs, work, mode="spire", name="idp-es256")
        policies = {
            "rs": helpers.policy_file(work / "rs.yaml", [{"issuer": rs_idp.issuer, "jwksUrl": rs_idp.jwks_url, "audiences": [AUD]}]),
            "es": helpers.policy_file(work / "es.yaml", [{"issuer": es_idp.issuer, "jwksUrl": es_idp.jwks_url, "audiences": [AUD]}]),
        }
        reused = work / "reused.lua"
        reused.write_text(f'wrk.headers["Authorization"] = "Bearer {rs_idp.token(AUD)}"\n')
        minted = es_idp.session.post(f"http://127.0.0.1:{es_idp.port}/test/token", timeout=300,
                                     json={"claims": {"aud": AUD}, "count": args.tokens, "expiresIn": 86400}).json()["tokens"]
        assert len(set(minted)) == args.tokens  # valid for a day: SVIDs default to 5 minutes
        (work / "tokens.txt").write_text("\n".join(minted) + "\n")
        distinct = work / "distinct.lua"
        distinct.write_text(CYCLE_SCRIPT % (work / "tokens.txt"))
        scripts = {"reused": ("rs", reused), "distinct": ("es", distinct), "missing": ("rs", None)}

        # Configurations of one workload run back to back, so drift in the machine's other
        # load affects them alike.
        for round_number in range(args.rounds):
            for workload, _ in WORKLOADS:
                for config, _, options in CONFIGS:
                    policy, script = scripts[workload]
                    envoy = helpers.Envoy(procs, work, policies[policy], web_port, concurrency=1,
                                          name=f"envoy-{config}-{workload}-{round_number}", cpus=envoy_cpus, **options)
                    try:
                        wrk(envoy.port, args.warmup, args.connections, script, load_cpus)
                        before = cpu_seconds(envoy.pid)
                        result = wrk(envoy.port, args.duration, args.connections, script, load_cpus)
                        result["cpu_us"] = 1e6 * (cpu_seconds(envoy.pid) - before) / max(result["requests"], 1)
                    finally:
                        envoy.proc.stop()
                    expect_denied = workload == "missing" and config != "none"
                    result["valid"] = result["socket_errors"] == 0 and (
                        result["non2xx"] == result["requests"] if expect_denied else result["non2xx"] == 0)
                    results.setdefault((config, workload), []).append(result)
                    print(f"round {round_number + 1} {config:16} {workload:9} {result['rps']:9.0f} req/s  "
                          f"p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms  "
                          f"Envoy CPU {result['cpu_us']:.1f} us/req  "
                          f"non-2xx {result['non2xx']}/{result['requests']}{'' if result['valid'] else '  INVALID'}",
                          flush=True)
    finally:
        for proc in reversed(procs.all):
            proc.stop()

    report = render(results, args, pin)
    args.out.write_text(report)
    print(f"\n{report}\nwritten to {args.out}")


def median(results, key):
    return statistics.median(r[key] for r in results)


def render(results, args, pin):
    envoy_version = subprocess.run([os.environ.get("CILIUM_JWT_ENVOY") or str(Path.home() / ".cache/cilium-jwt/envoy-1.40.0/envoy"),
                                    "--version"], capture_output=True, text=True).stdout.strip().split()[-1]
    lines = [
        "# Benchmark: Envoy + cilium-jwt module vs Envoy jwt_authn",
        "",
        f"Generated by `tests/bench/bench_envoy.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        f"Machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), shared by Envoy, wrk and the upstream;",
        f"Envoy `{envoy_version}` with `--concurrency 1`; upstream `cilium-jwt webserver` (200, 25 bytes);",
        f"wrk 1 thread, {args.connections} connections, {args.warmup} s warm-up then {args.duration} s measured, "
        f"median of {args.rounds} round(s); {args.tokens} distinct ES256 tokens.",
        "",
        f"CPU pinning: {'Envoy on CPU 0, wrk and the upstream on the others' if pin else 'none'}.",
        "",
        "Requests per second (p50 / p99 latency; Envoy CPU time per request, which is less",
        "sensitive to other load on the machine than throughput):",
        "",
        "| workload | " + " | ".join(name for _, name, _ in CONFIGS) + " | module / ceiling | module / jwt_authn |",
        "|---|" + "---|" * (len(CONFIGS) + 2),
    ]
    for workload, title in WORKLOADS:
        cells = []
        for config, _, _ in CONFIGS:
            runs = results[(config, workload)]
            flag = "" if all(r["valid"] for r in runs) else " (INVALID: unexpected statuses or errors)"
            cells.append(f"{median(runs, 'rps'):,.0f} ({median(runs, 'p50_ms'):.2f} / {median(runs, 'p99_ms'):.2f} ms; "
                         f"{median(runs, 'cpu_us'):.0f} µs CPU){flag}")
        module = median(results[("module", workload)], "rps")
        ceiling = median(results[("none", workload)], "rps")
        authn = median(results[("jwt_authn", workload)], "rps")
        lines.append(f"| {title} | " + " | ".join(cells) + f" | {module / ceiling:.2f}x | {module / authn:.2f}x |")
    cpu = {key: median(runs, "cpu_us") for key, runs in results.items()}
    reused_ratio = median(results[("module", "reused")], "rps") / median(results[("none", "reused")], "rps")
    distinct_ratio = median(results[("module", "distinct")], "rps") / median(results[("jwt_authn", "distinct")], "rps")
    lines += [
        "",
        "Goals:",
        f"- reused token, module ≥ 0.9x the ceiling: **{reused_ratio:.2f}x, {'met' if reused_ratio >= 0.9 else 'MISSED'}**",
        f"- distinct tokens, module ≥ 1.3x jwt_authn: **{distinct_ratio:.2f}x, {'met' if distinct_ratio >= 1.3 else 'MISSED'}**",
        "",
        "By Envoy CPU per request (throughput a saturated worker would reach, relative):",
        f"- reused token: module/ceiling {cpu[('none', 'reused')] / cpu[('module', 'reused')]:.2f}x; "
        f"distinct tokens: module/jwt_authn {cpu[('jwt_authn', 'distinct')] / cpu[('module', 'distinct')]:.2f}x",
        "",
        "Authentication cost, as Envoy CPU per request above the no-auth ceiling of the same workload:",
        "",
        "| workload | jwt_authn | jwt_authn + jwt_cache_config | cilium-jwt module |",
        "|---|---|---|---|",
        *[f"| {title} | " + " | ".join(f"{cpu[(config, workload)] - cpu[('none', workload)]:+.0f} µs"
                                      for config in ("jwt_authn", "jwt_authn_cache", "module")) + " |"
          for workload, title in WORKLOADS if workload != "missing"],
        "",
        "With distinct tokens nothing can be cached, so every request pays one P-256 signature",
        "verification on the worker thread, in both implementations (aws-lc here, BoringSSL in",
        "jwt_authn); it is most of the authentication cost, which bounds how far ahead of jwt_authn",
        "a single worker can get (see the README's criterion numbers for raw verify vs our verdict).",
        "",
        "With no token, the ceiling column proxies to the upstream while the others answer 401 locally.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
