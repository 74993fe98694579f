# SPDX-License-Identifier: Apache-2.0
"""Workloads for the VRAM quota checks, run under `cuslice run --vram`.
Each prints one JSON line of what it saw.

    python3 vram.py info|torch-fill|jax|cupy-fill|transformers|share
"""
import json
import os
import subprocess
import sys

GiB = 1 << 30


def out(**fields):
    print(json.dumps(fields), flush=True)


def info():
    import torch

    free, total = torch.cuda.mem_get_info()
    out(free=free, total=total)


def torch_fill():
    import torch

    free, total = torch.cuda.mem_get_info()
    blocks, chunk = [], 256 << 20
    try:
        while True:
            blocks.append(torch.empty(chunk, dtype=torch.uint8, device="cuda"))
    except torch.cuda.OutOfMemoryError:
        pass
    allocated = len(blocks) * chunk
    blocks.clear()
    torch.cuda.synchronize()
    out(allocated=allocated, total=total, free_at_start=free,
        allocator=os.environ.get("PYTORCH_CUDA_ALLOC_CONF", "default"))


def jax_run():
    import jax
    import jax.numpy as jnp

    x = jnp.ones((4096, 4096), dtype=jnp.float32)
    y = jax.jit(lambda a: (a @ a).sum())(x)
    stats = jax.local_devices()[0].memory_stats() or {}
    out(result=float(y), bytes_limit=stats.get("bytes_limit", -1))


def cupy_fill():
    import cupy as cp

    blocks, chunk = [], 256 << 20
    try:
        while True:
            blocks.append(cp.empty(chunk, dtype=cp.uint8))
    except cp.cuda.memory.OutOfMemoryError:
        pass
    out(allocated=len(blocks) * chunk)


def transformers_generate():
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(n_layer=4, n_head=8, n_embd=512, vocab_size=8192, n_positions=256)
    model = GPT2LMHeadModel(config).cuda().eval()
    ids = torch.randint(0, 8192, (4, 16), device="cuda")
    with torch.no_grad():
        generated = model.generate(ids, max_new_tokens=32, do_sample=False, pad_token_id=0)
    out(generated_tokens=int(generated.shape[1] - ids.shape[1]),
        peak_allocated=torch.cuda.max_memory_allocated())


def hold(gib):
    """Holds GIB of device memory until stdin closes; says whether it got it."""
    import torch

    try:
        block = torch.empty(int(gib * GiB), dtype=torch.uint8, device="cuda")
        got = True
    except torch.cuda.OutOfMemoryError:
        block, got = None, False
    free, total = torch.cuda.mem_get_info()
    out(got=got, free=free, total=total)
    sys.stdin.read()
    del block


def share():
    """Two processes of one tenant: the first holds 6 GiB, so the second
    cannot have 6 GiB more of a 10 GiB quota."""
    first = subprocess.Popen([sys.executable, __file__, "hold", "6"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    a = json.loads(first.stdout.readline())
    second = subprocess.Popen([sys.executable, __file__, "hold", "6"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    b = json.loads(second.stdout.readline())
    for p in (first, second):
        p.stdin.close()
        p.wait()
    out(first=a, second=b)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "hold":
        hold(float(sys.argv[2]))
    else:
        {"info": info, "torch-fill": torch_fill, "jax": jax_run, "cupy-fill": cupy_fill,
         "transformers": transformers_generate, "share": share}[mode]()
