"""Load: 16 connections for 30 s through Envoy + our module (wrk), cycling through 1000
distinct tokens (the first pass verifies signatures, later ones hit the token cache).
Zero 5xx, zero socket errors, and Envoy's resident memory stays flat."""

import re
import shutil
import subprocess

import pytest

import helpers

AUD = "Thales-accuknox-1st"
DURATION = 30

COUNTING_SCRIPT = r"""
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local threads = {}
local counter = 0
setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
init = function(args)
  codes = {}
  counter = id * 7919
end
request = function()
  counter = counter + 1
  return wrk.format("GET", "/", {["Authorization"] = "Bearer " .. tokens[(counter %% #tokens) + 1]})
end
response = function(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end
done = function(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("codes")) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do io.write(string.format("STATUS %%d %%d\n", status, n)) end
  io.write(string.format("P99_US %%d\n", latency:percentile(99)))
end
"""


def wrk(port, script, seconds, connections=16, threads=2):
    result = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "-s", script,
                             f"http://127.0.0.1:{port}/"], capture_output=True, text=True, timeout=seconds + 60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    codes = {int(c): int(n) for c, n in re.findall(r"^STATUS (\d+) (\d+)$", out, re.M)}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = int(re.search(r"^P99_US (\d+)$", out, re.M).group(1))
    return codes, (sum(int(g) for g in errors.groups()) if errors else 0), rps, p99, out


@pytest.mark.load
def test_sustained_load_no_5xx_flat_memory(procs, logs, idp):
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed: run scripts/setup.sh")
    web_port = helpers.free_port()
    procs.add(helpers.Proc("webserver", [helpers.cilium_jwt(), "webserver", "--listen", f"127.0.0.1:{web_port}"], logs))
    helpers.wait_port(web_port)
    policy = helpers.policy_file(logs / "p.yaml", [{"provider": "AUTH0", "issuer": idp.issuer, "jwksUrl": idp.jwks_url,
                                                     "audiences": [AUD]}])
    envoy = helpers.Envoy(procs, logs, policy, web_port, concurrency=2)

    tokens = logs / "tokens.txt"
    tokens.write_text("\n".join(idp.token(AUD, client=f"load-{i}") for i in range(1000)) + "\n")
    script = logs / "load.lua"
    script.write_text(COUNTING_SCRIPT % {"tokens": tokens})

    warm_codes, _, _, _, _ = wrk(envoy.port, script, 5)
    assert set(warm_codes) == {200}, warm_codes
    rss_before = envoy.rss_kib()
    codes, socket_errors, rps, p99_us, out = wrk(envoy.port, script, DURATION)
    rss_after = envoy.rss_kib()

    report = (f"load: {DURATION}s, 16 connections, 1000 distinct RS256 tokens: {rps:.0f} req/s, p99 {p99_us / 1000:.2f} ms, "
              f"statuses {codes}, socket errors {socket_errors}; Envoy VmRSS {rss_before} KiB -> {rss_after} KiB "
              f"({rss_after - rss_before:+d} KiB)")
    print(report)
    helpers.REPORTS.append(report)
    (logs / "load-report.txt").write_text(report + "\n\n" + out)

    assert not any(status >= 500 for status in codes), codes
    assert set(codes) == {200}, codes
    assert socket_errors == 0, out
    assert sum(codes.values()) > 1000
    # Generous: caches are bounded (8192 tokens), so growth beyond warm-up means a leak.
    assert rss_after - rss_before < 32 * 1024, report
