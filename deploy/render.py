# SPDX-License-Identifier: Apache-2.0
"""Renders the Helm chart in deploy/helm/cuslice without Helm, for the plain
manifests in deploy/kubernetes and for the tests. The chart's templates keep
to what this renders the way Helm does: {{ .Values.a.b }}, {{ .Release.Name }},
{{ .Release.Namespace }}, and {{- if [not] .Values.x }} … {{- end }} lines.

    render.py [--set key.path=value ...] > cuslice.yaml
"""
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CHART = os.path.join(HERE, "helm", "cuslice")


def lookup(values, path, release):
    parts = path.split(".")
    if parts[0] == "Release":
        return release[parts[1]]
    node = values
    for p in parts[1:]:
        if not isinstance(node, dict) or p not in node:
            raise KeyError(f"{path} is not in values.yaml")
        node = node[p]
    return node


def render(text, values, release):
    out, keep = [], [True]
    for line in text.splitlines():
        m = re.match(r"\s*\{\{-? if (not )?\.(\S+) \}\}\s*$", line)
        if m:
            v = bool(lookup(values, m.group(2), release))
            keep.append(keep[-1] and (v != bool(m.group(1))))
            continue
        if re.match(r"\s*\{\{-? end \}\}\s*$", line):
            keep.pop()
            continue
        if keep[-1]:
            out.append(re.sub(r"\{\{ \.(\S+) \}\}",
                              lambda m: str(lookup(values, m.group(1), release)), line))
    if len(keep) != 1:
        raise ValueError("unbalanced if/end")
    return "\n".join(out) + "\n"


def main(argv):
    values = yaml.safe_load(open(os.path.join(CHART, "values.yaml")))
    for item in argv:
        key, _, value = item.partition("=")
        node = values
        *parents, leaf = key.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = yaml.safe_load(value)
    release = {"Name": "cuslice", "Namespace": "cuslice-system"}
    docs = []
    for name in sorted(os.listdir(os.path.join(CHART, "templates"))):
        text = open(os.path.join(CHART, "templates", name)).read()
        docs.append(f"# Source: cuslice/templates/{name}\n" + render(text, values, release))
    sys.stdout.write("---\n".join(docs))


if __name__ == "__main__":
    main([a for a in sys.argv[1:] if a != "--set"])
