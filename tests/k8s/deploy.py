# SPDX-License-Identifier: Apache-2.0
"""The files in deploy/: every YAML parses; the Helm chart renders with its
default values and with every option turned, into the DaemonSet the daemon
and the device plugin need; deploy/kubernetes/cuslice.yaml is that rendering;
the example pod asks only for resources the device plugin advertises; the CDI
template makes a valid spec; the systemd units start binaries the build makes.

    deploy.py SOURCE_DIR PLUGIN_BINARY
"""
import glob
import os
import subprocess
import sys
import tempfile

import yaml

src, plugin = sys.argv[1], sys.argv[2]
deploy = os.path.join(src, "deploy")

failed = False


def check(what, ok, detail=""):
    global failed
    print(("PASS " if ok else "FAIL ") + what + (f": {detail}" if detail else ""), flush=True)
    failed |= not ok


def rendered(overrides):
    out = subprocess.run([sys.executable, os.path.join(deploy, "render.py"), *overrides],
                         check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


files = [f for f in glob.glob(os.path.join(deploy, "**", "*.yaml"), recursive=True)
         if "/templates/" not in f]
bad = []
for f in files:
    try:
        list(yaml.safe_load_all(open(f)))
    except yaml.YAMLError as e:
        bad.append(f"{f}: {e}")
check(f"{len(files)} YAML files in deploy/ parse", not bad, "; ".join(bad))

docs = rendered([])
kinds = sorted(d["kind"] for d in docs)
check("the chart renders with default values",
      kinds == ["ClusterRole", "ClusterRoleBinding", "DaemonSet", "ServiceAccount"], str(kinds))
ds = next(d for d in docs if d["kind"] == "DaemonSet")
pod = ds["spec"]["template"]["spec"]
containers = {c["name"]: c for c in pod["containers"]}
mounts = {c: {m["mountPath"] for m in containers[c]["volumeMounts"]} for c in containers}
check("the DaemonSet runs cusliced and the device plugin with the host's pids",
      set(containers) == {"cusliced", "device-plugin"} and pod.get("hostPID") is True)
check("cusliced sees cgroups, bpffs, the devices and its runtime directory",
      {"/sys/fs/cgroup", "/sys/fs/bpf", "/dev", "/run/cuslice"} <= mounts["cusliced"])
check("the device plugin sees the kubelet's directory and cusliced's sockets",
      {"/var/lib/kubelet/device-plugins", "/run/cuslice"} <= mounts["device-plugin"])
env = {e["name"]: e["value"] for e in containers["cusliced"].get("env", [])}
check("cusliced gets the driver's libraries and MPS binaries from the NVIDIA runtime",
      env.get("NVIDIA_VISIBLE_DEVICES") == "all" and
      "compute" in env.get("NVIDIA_DRIVER_CAPABILITIES", "").split(","), str(env))
args = containers["cusliced"]["command"]
check("defaults: the kernel side on, nothing optional set",
      "--no-bpf" not in args and not any(a.startswith("--default-vram") for a in args))

turned = rendered(["--set", "daemon.bpf=false", "--set", "daemon.defaultVram=8GiB",
                   "--set", "daemon.denyModeset=true", "--set", "devicePlugin.cdi=true"])
ds2 = next(d for d in turned if d["kind"] == "DaemonSet")
c2 = {c["name"]: c["command"] for c in ds2["spec"]["template"]["spec"]["containers"]}
check("values reach the daemon's and the plugin's flags",
      {"--no-bpf", "--default-vram=8GiB", "--deny-modeset"} <= set(c2["cusliced"]) and
      "--cdi" in c2["device-plugin"], " ".join(c2["cusliced"][1:]))

plain = [d for d in yaml.safe_load_all(open(os.path.join(deploy, "kubernetes", "cuslice.yaml"))) if d]
check("deploy/kubernetes/cuslice.yaml is the chart rendered with its defaults",
      [d for d in plain if d["kind"] != "Namespace"] == docs)

helptext = subprocess.run([plugin, "--help"], capture_output=True, text=True).stdout
advertised = {w.strip("(),.") for w in helptext.split() if w.startswith("cuslice.io/")}
example = yaml.safe_load(open(os.path.join(deploy, "kubernetes", "example-pod.yaml")))
asked = {r: v for c in example["spec"]["containers"]
         for r, v in c["resources"]["limits"].items()}
check("the example pod asks for cuslice.io/vram: 10 and cuslice.io/sm: 30, both advertised",
      asked == {"cuslice.io/vram": 10, "cuslice.io/sm": 30} and set(asked) <= advertised,
      f"asked {asked}, advertised {sorted(advertised)}")

with tempfile.TemporaryDirectory() as tmp:
    fake = os.path.join(tmp, "nvidia-smi")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\ncase "$*" in *query-gpu*) printf "0\\n1\\n";;\n'
                '*"-i 0 -q"*) echo "    Minor Number : 2";;\n'
                '*"-i 1 -q"*) echo "    Minor Number : 0";; esac\n')
    os.chmod(fake, 0o755)
    out = os.path.join(tmp, "cuslice.yaml")
    env = dict(os.environ, PATH=tmp + ":" + os.environ["PATH"])
    subprocess.run([os.path.join(deploy, "cdi", "generate.sh"), out], env=env, check=True,
                   capture_output=True)
    spec = yaml.safe_load(open(out))
    nodes = [(d["name"], d["containerEdits"]["deviceNodes"][0]["path"]) for d in spec["devices"]]
    check("the CDI spec names each GPU's node by its minor",
          spec["kind"] == "cuslice.io/gpu" and nodes == [("gpu0", "/dev/nvidia2"),
                                                         ("gpu1", "/dev/nvidia0")], str(nodes))

for unit in glob.glob(os.path.join(deploy, "systemd", "*.service")):
    start = next(l for l in open(unit) if l.startswith("ExecStart="))
    binary = os.path.basename(start.split("=", 1)[1].split()[0])
    check(f"{os.path.basename(unit)} starts {binary}", binary in ("cusliced", "cuslice-device-plugin"))

sys.exit(1 if failed else 0)
