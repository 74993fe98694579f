# SPDX-License-Identifier: Apache-2.0
"""PyTorch under the shim: eager matmuls, a Triton kernel from torch.compile
and a CUDA graph replay, all under torch.profiler. Writes the number of
kernels CUPTI saw, which the shim's count must equal.

    python3 torch_counts.py OUT.json
"""
import json
import os
import sys
import tempfile

import torch


def workload():
    x = torch.randn(1024, 1024, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(1024, 1024, device="cuda", dtype=torch.bfloat16)
    for _ in range(20):
        y = x @ w
    y = torch.relu(y) + 1.0

    @torch.compile
    def fused(a, b):
        return torch.sin(a) * torch.cos(b) + a

    for _ in range(5):
        z = fused(x.float(), w.float())

    static_x = torch.randn(512, 512, device="cuda")
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):  # warm up outside the graph, as PyTorch asks
            static_y = static_x @ static_x + 1
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        static_y = static_x @ static_x + 1
    for _ in range(10):
        g.replay()
    torch.cuda.synchronize()
    return float(y.float().sum()) + float(z.sum()) + float(static_y.sum())


def kernels_in_trace(path):
    with open(path) as f:
        trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    return sum(1 for e in events if e.get("cat") == "kernel" and e.get("ph") == "X")


def main():
    out = sys.argv[1]
    activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
    with torch.profiler.profile(activities=activities) as prof:
        workload()
    trace = os.path.join(tempfile.mkdtemp(), "trace.json")
    prof.export_chrome_trace(trace)
    with open(out, "w") as f:
        json.dump({"cupti_kernels": kernels_in_trace(trace), "pid": os.getpid()}, f)


if __name__ == "__main__":
    main()
