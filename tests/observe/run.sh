#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cusliced's /metrics and events against a fakecuda workload with known usage,
# /metrics read with
# Debian's python3-prometheus-client parser: VRAM held and its quota, a
# refused allocation, launches, GPU time, throttling under a limit; HELP and
# TYPE for every family; the scrape time with 1 and with 64 tenants; and the
# same refusal and throttling seen by `cuslice events` as JSON lines.
#
#   tests/observe/run.sh BUILD_DIR
set -u
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3
skip() { echo "tests/observe: skipped: $*"; exit 77; }
fail() { echo "FAIL $*"; failed=1; }
pass() { echo "PASS $*"; }
failed=0
$python -c "import prometheus_client" 2>/dev/null || skip "needs python3-prometheus-client"

work=$(mktemp -d /tmp/cuslice-observe.XXXXXX)
port=$($python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port/metrics
export LD_LIBRARY_PATH=$build/tests/fakecuda FAKECUDA_CONTEXT_BYTES=0 FAKECUDA_SHARED_GPU=$work/gpu
export CUSLICE_ADMIN_SOCKET=$work/run/admin.sock CUSLICE_SOCKET=$work/run/tenant.sock
"$build/tools/cusliced" --runtime-dir "$work/run" --state "$work/state.json" --no-bpf \
	--metrics "127.0.0.1:$port" 2>"$work/cusliced.log" &
daemon=$!
trap 'kill $daemon $holder $events 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
holder=
for _ in $(seq 100); do [ -S "$work/run/admin.sock" ] && break; sleep 0.02; done
cuslice() { "$build/tools/cuslice" "$@"; }
shimmed() { env LD_PRELOAD="$build/shim/libcuslice.so" "$@"; }
samples() { $python "$here/metrics_check.py" "$url" >"$work/samples" || fail "scrape: $(cat "$work/samples")"; }
# value NAME [TENANT]: the sample's value (the first GPU's for per-GPU ones)
value() {
	$python - "$work/samples" "$1" "${2:-}" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    s = json.loads(line)
    if s["name"] == sys.argv[2] and s["labels"].get("tenant", "") == sys.argv[3] and \
            s["labels"].get("gpu", "0") == "0":
        print(int(s["value"]) if s["value"] == int(s["value"]) else s["value"])
        break
PY
}

"$build/tools/cuslice" events --for 30 >"$work/events" 2>&1 &
events=$!
# a holder of 64 MiB names this test's tenant (its cgroup)
env LD_PRELOAD="$build/shim/libcuslice.so" "$build/tests/integration/vram-workload" hold $((64 << 20)) \
	>"$work/holder" &
holder=$!
for _ in $(seq 200); do grep -q holding "$work/holder" && break; sleep 0.01; done
tenant=$(cuslice get tenants -o json | $python -c 'import json,sys; print(json.load(sys.stdin)["tenants"][0]["tenant"])')
cuslice set "$tenant" --vram 100MiB >/dev/null
samples
families=$(grep -c . "$work/samples")
[ "$(value cuslice_vram_used_bytes "$tenant")" = $((64 << 20)) ] &&
	pass "cuslice_vram_used_bytes is the 64 MiB held" || fail "vram used: $(value cuslice_vram_used_bytes "$tenant")"
[ "$(value cuslice_vram_limit_bytes "$tenant")" = $((100 << 20)) ] &&
	pass "cuslice_vram_limit_bytes is the 100 MiB quota" || fail "vram limit: $(value cuslice_vram_limit_bytes "$tenant")"
shimmed "$build/tests/integration/vram-workload" hold $((64 << 20)) >/dev/null 2>&1
samples
[ "$(value cuslice_oom_events_total "$tenant")" = 1 ] &&
	pass "a second 64 MiB over the quota: cuslice_oom_events_total 1" ||
	fail "oom events: $(value cuslice_oom_events_total "$tenant")"
kill $holder; wait $holder 2>/dev/null; holder=

kernels=$(shimmed "$build/tests/integration/share-workload" 0.3 1000 | awk '{ print $2 }')
sleep 0.1 # a scheduler tick reads the launch counts
samples
[ "$(value cuslice_launches_total "$tenant")" = "$kernels" ] &&
	pass "cuslice_launches_total is the $kernels kernels share-workload launched" ||
	fail "launches $(value cuslice_launches_total "$tenant"), share-workload launched $kernels"
cuslice set "$tenant" --limit 30% >/dev/null
shimmed "$build/tests/integration/share-workload" 0.5 1000 >/dev/null
samples
throttled=$(value cuslice_throttled_seconds_total "$tenant")
gpu=$(value cuslice_gpu_time_seconds_total "$tenant")
$python -c "import sys; sys.exit(not (float('$throttled') > 0.2 and float('$gpu') > 0.1))" &&
	pass "under --limit 30%: throttled ${throttled} s, GPU time admitted ${gpu} s" ||
	fail "throttled $throttled s, GPU time $gpu s"
$python - "$work/samples" <<'PY' && pass "every family has HELP and TYPE, counters end in _total" || fail "families"
import json, sys
fams = {}
for line in open(sys.argv[1]):
    s = json.loads(line)
    fams[s["family"]] = (s["type"], s["help"])
want = {"cuslice_vram_used_bytes": "gauge", "cuslice_vram_limit_bytes": "gauge",
        "cuslice_gpu_time_seconds": "counter", "cuslice_launches": "counter",
        "cuslice_throttled_seconds": "counter", "cuslice_oom_events": "counter",
        "cuslice_sm_granted": "gauge", "cuslice_gpu_mode": "gauge", "cuslice_mps_restarts": "counter"}
sys.exit(any(fams.get(k, (None, ""))[0] != v or not fams[k][1] for k, v in want.items()))
PY

# the same, as events
sleep 1.2 # the daemon looks once a second
$python - "$work/events" "$tenant" <<'PY' && pass "cuslice events: the refusal and the throttling, as JSON lines" || fail "events: $(cat "$work/events")"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
kinds = {(e["kind"], e["tenant"]) for e in events}
ok = ("oom", sys.argv[2]) in kinds and ("throttled", sys.argv[2]) in kinds
ok &= all(set(e) == {"time", "kind", "tenant", "reason"} and e["time"].endswith("Z") for e in events)
for e in events:
    print("  ", json.dumps(e))
sys.exit(not ok)
PY

# the Grafana dashboard asks only for metrics cusliced serves
$python - "$work/samples" "$here/../../deploy/grafana/cuslice.json" <<'PY' && pass "the Grafana dashboard's queries use only served metrics" || fail "dashboard"
import json, re, sys
served = {json.loads(l)["family"] for l in open(sys.argv[1])}
served |= {f + "_total" for f in served}  # the parser strips _total from counter families
dash = json.load(open(sys.argv[2]))
exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
exprs.append(dash["templating"]["list"][1]["query"])
used = {m for e in exprs for m in re.findall(r"cuslice_[a-z_]+", e)}
missing = used - served
print("   queries use", ", ".join(sorted(used)), "; missing:", ", ".join(sorted(missing)) or "none")
sys.exit(bool(missing) or len(dash["panels"]) < 8)
PY

# scrape cost: 1 tenant, then 64
one=$($python "$here/metrics_check.py" "$url" --time 50)
for i in $(seq 63); do cuslice set "/observe/t$i" --weight 2 >/dev/null; done
sixty_four=$($python "$here/metrics_check.py" "$url" --time 50)
samples
n=$(grep -c '"name": "cuslice_vram_limit_bytes"' "$work/samples")
[ "$n" = 64 ] && pass "64 tenants scraped: median $one ms with 1 tenant, $sixty_four ms with 64" ||
	fail "$n tenants in the scrape"
# cuslice report --html, rendered by headless Chromium: every tenant drawn
"$build/tools/cuslice" report --html "$work/report.html" --minutes 2 2>/dev/null ||
	fail "cuslice report failed"
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$chromium" ] && [ -s "$work/report.html" ]; then
	timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --user-data-dir="$work/chromium" \
		--dump-dom "file://$work/report.html" >"$work/dom" 2>/dev/null
	$python - "$work/dom" "$tenant" <<'PY' && pass "the HTML report renders in Chromium with every tenant in its legend and plots" || fail "report DOM: $(head -c 600 "$work/dom")"
import re, sys
dom = open(sys.argv[1]).read()
legend = re.findall(r'<li class="tenant"[^>]*>([^<]*)</li>', dom)
lines = re.findall(r'<polyline [^>]*data-tenant="([^"]*)"', dom)
ok = sys.argv[2] in legend and len(legend) == 64 and len(lines) == 2 * 64
ok &= "<table>" in dom and "http" not in dom.split("<body>")[0].replace("http://www.w3.org", "")
print(f"   {len(legend)} tenants in the legend, {len(lines)} lines drawn")
sys.exit(not ok)
PY
else
	echo "SKIP the HTML report in Chromium: no chromium"
fi

# cuslice top in a real terminal (tmux, 80x24), and into a pipe
if command -v tmux >/dev/null; then
	tmux -L "cuslice-$$" new-session -d -x 80 -y 24 \
		"env CUSLICE_ADMIN_SOCKET=$CUSLICE_ADMIN_SOCKET $build/tools/cuslice top"
	sleep 2.5
	tmux -L "cuslice-$$" capture-pane -p >"$work/screen"
	tmux -L "cuslice-$$" kill-server
	$python - "$work/screen" "$tenant" <<'PY' && pass "cuslice top in tmux: header, tenant rows, nothing past 80 columns" || fail "top screen: $(cat "$work/screen")"
import sys
lines = open(sys.argv[1]).read().splitlines()
for l in lines[:4]:
    print("   |" + l)
ok = lines[0].startswith("cuslice top") and "64 tenants" in lines[0]
ok &= lines[1].split()[:2] == ["TENANT", "VRAM"]
rows = [l.split()[0] for l in lines[2:] if l.strip()]
# 24 lines: 2 of header, 21 tenants, and how many more there are
ok &= sys.argv[2] in rows and len(rows) == 22 and "43 more tenants" in lines[23]
ok &= len(lines) == 24
ok &= all(len(l) <= 80 for l in lines)
sys.exit(not ok)
PY
else
	echo "SKIP cuslice top in tmux: no tmux"
fi
"$build/tools/cuslice" top -n 2 --interval 0.2 >"$work/plain"
[ "$(grep -c '^cuslice top' "$work/plain")" = 2 ] && ! grep -q $'\033' "$work/plain" &&
	pass "cuslice top into a pipe: plain blocks, no escape sequences" ||
	fail "top into a pipe: $(head -3 "$work/plain")"
exit $failed
