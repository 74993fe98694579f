# SPDX-License-Identifier: Apache-2.0
"""PyTorch work whose results must not depend on where it runs: a matmul, a
torch.compile'd (Triton) function, a CUDA graph replay, a torch.compile'd
function in CUDA graphs (mode="reduce-overhead"), and a backward pass
(run by autograd's own thread on the default stream). Saves the results to
OUT for comparison between a partitioned and an unpartitioned run.

    python3 partition_torch.py OUT [PAUSE]

With PAUSE, it waits PAUSE seconds after its first matmul and again between
capturing the graph and replaying it: time for its SMs to change while it
runs (bench/spatial's move section).
"""
import sys
import time

import torch

pause = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0

torch.manual_seed(0)
dev = "cuda"
a = torch.randn(1024, 1024, device=dev, dtype=torch.bfloat16)
b = torch.randn(1024, 1024, device=dev, dtype=torch.bfloat16)
results = {"matmul": a @ b}


def wait():
    """Says so, and pauses (with PAUSE only)."""
    if pause:
        torch.cuda.synchronize()
        print("pausing", flush=True)
        time.sleep(pause)


wait()


@torch.compile
def fused(x, w):
    return torch.relu(x @ w + 1.0) * 2.0


results["compiled"] = fused(a.float(), b.float())



@torch.compile(mode="reduce-overhead")
def graphed(x, w):
    return torch.relu(x @ w - 1.0) * 0.5


# warm-up, then captured into a CUDA graph of Triton (and cuBLAS) kernels,
# replayed below after the second pause
graphed(a.float(), b.float())
graphed(a.float(), b.float())

static_in = torch.randn(256, 1024, device=dev)
w = torch.randn(1024, 1024, device=dev)
s = torch.cuda.Stream()
s.wait_stream(torch.cuda.current_stream())
with torch.cuda.stream(s):
    for _ in range(3):
        static_out = torch.tanh(static_in @ w)
torch.cuda.current_stream().wait_stream(s)
graph = torch.cuda.CUDAGraph()
with torch.cuda.graph(graph):
    static_out = torch.tanh(static_in @ w)
wait()
static_in.copy_(torch.ones(256, 1024, device=dev))
graph.replay()
results["graph"] = static_out.clone()
results["compiled_graph"] = graphed(a.float(), b.float()).clone()

model = torch.nn.Sequential(torch.nn.Linear(1024, 2048), torch.nn.GELU(),
                            torch.nn.Linear(2048, 10)).to(dev)
x = torch.randn(64, 1024, device=dev)
loss = model(x).square().mean()
loss.backward()
results["grad"] = model[0].weight.grad.clone()
torch.cuda.synchronize()
torch.save({k: v.cpu() for k, v in results.items()}, sys.argv[1])
print({"sms_seen_by_torch": torch.cuda.get_device_properties(0).multi_processor_count,
       "saved": sorted(results)})
