# SPDX-License-Identifier: Apache-2.0
"""CuPy or JAX work whose results must not depend on where it runs, saved to
OUT (.npz) for comparison between a partitioned (or moved) run and one on the
whole GPU, as partition_torch.py does for PyTorch.

    python3 partition_frameworks.py cupy|jax OUT [PAUSE]

cupy: a blocking stream of its own (cupy.cuda.Stream(), as most CuPy code
makes them) feeding the legacy default stream and back with no explicit
synchronisation, which is correct only where the legacy stream's implicit
order holds (green contexts lack it; the shim puts it back); a raw kernel;
a CUDA graph of elementwise and raw kernels captured on the stream and
replayed.
jax: a jitted loop of matmuls, a gradient, float32 at the highest precision
with autotuning off, so that the same kernels run everywhere.

With PAUSE, it waits PAUSE seconds after its first results and again before
its last, printing "pausing": time for its SMs to change while it runs.
"""
import os
import sys
import time

import numpy as np

which, out = sys.argv[1], sys.argv[2]
pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0


def wait(sync):
    """Says so, and pauses (with PAUSE only)."""
    if pause:
        sync()
        print("pausing", flush=True)
        time.sleep(pause)


def run_cupy():
    import cupy as cp

    results = {}
    n = 4096
    rng = np.random.default_rng(0)
    a_host = rng.standard_normal((n, n), dtype=np.float32)
    s = cp.cuda.Stream()  # blocking: ordered with the legacy stream
    with s:
        a = cp.asarray(a_host)
        c = a @ a  # long enough that a missing order shows
    d = c * 0.5 + 1.0  # the legacy stream reads what the stream wrote
    results["handover"] = cp.asnumpy(d)  # a synchronous copy on the legacy stream
    wait(cp.cuda.Device().synchronize)
    with s:
        e = d @ a  # the stream reads what the legacy stream wrote
    square = cp.RawKernel(r'''
extern "C" __global__ void square(const float *x, float *y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i] * x[i];
}''', "square")
    f = cp.empty_like(e)
    square(((n * n + 255) // 256,), (256,), (e, f, cp.int32(n * n)))  # legacy stream
    results["raw_kernel"] = cp.asnumpy(f)
    g_in = e[:256]
    with s:
        cp.tanh(g_in * 0.25 + 1.0)  # once outside the capture: its memory is pooled then
        s.begin_capture()  # (CuPy calls no cuBLAS under capture)
        g_out = cp.tanh(g_in * 0.25 + 1.0)
        square(((256 * n + 255) // 256,), (256,), (g_out, g_out, cp.int32(256 * n)))
        graph = s.end_capture()
    wait(cp.cuda.Device().synchronize)
    graph.launch(s)
    results["graph"] = cp.asnumpy(g_out)  # legacy stream, after the graph on s
    return results


def run_jax():
    os.environ.setdefault("XLA_FLAGS", "--xla_gpu_autotune_level=0")
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_default_matmul_precision", "highest")
    results = {}
    key = jax.random.PRNGKey(0)
    x = jax.random.normal(key, (1024, 1024), jnp.float32)
    w = jax.random.normal(jax.random.PRNGKey(1), (1024, 1024), jnp.float32) / 32.0

    @jax.jit
    def steps(x, w):
        return jax.lax.fori_loop(0, 16, lambda i, y: jnp.tanh(y @ w), x)

    results["loop"] = np.asarray(steps(x, w))
    wait(lambda: jax.block_until_ready(x))

    def loss(w, x):
        return jnp.mean(jnp.square(jnp.tanh(x @ w) @ w.T))

    results["grad"] = np.asarray(jax.jit(jax.grad(loss))(w, x))
    wait(lambda: jax.block_until_ready(x))
    results["loop_again"] = np.asarray(steps(x, w))
    return results


results = {"cupy": run_cupy, "jax": run_jax}[which]()
np.savez(out, **results)
print({"which": which, "saved": sorted(results)})
