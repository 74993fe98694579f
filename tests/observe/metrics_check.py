# SPDX-License-Identifier: Apache-2.0
"""Reads cusliced's /metrics with Debian's python3-prometheus-client parser.

    metrics_check.py URL                      print every sample as JSON lines
    metrics_check.py URL --time N             median ms of N scrapes
"""
import json
import statistics
import sys
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

url = sys.argv[1]


def scrape():
    with urllib.request.urlopen(url, timeout=5) as r:
        kind = r.headers.get("Content-Type", "")
        return kind, r.read().decode()


if len(sys.argv) > 2 and sys.argv[2] == "--time":
    times = []
    for _ in range(int(sys.argv[3])):
        t0 = time.perf_counter()
        scrape()
        times.append((time.perf_counter() - t0) * 1e3)
    print(f"{statistics.median(times):.3f}")
    sys.exit(0)

kind, text = scrape()
if not kind.startswith("text/plain; version=0.0.4"):
    sys.exit(f"unexpected Content-Type {kind!r}")
for family in text_string_to_metric_families(text):
    for s in family.samples:
        print(json.dumps({"family": family.name, "type": family.type, "help": family.documentation,
                          "name": s.name, "labels": s.labels, "value": s.value}))
