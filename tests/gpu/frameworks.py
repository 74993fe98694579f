# SPDX-License-Identifier: Apache-2.0
"""CuPy and JAX run to completion under the shim.

    python3 frameworks.py cupy|jax
"""
import sys


def run_cupy():
    import cupy as cp

    a = cp.random.random((2048, 2048), dtype=cp.float32)
    b = a @ a
    k = cp.ElementwiseKernel("float32 x", "float32 y", "y = x * 2 + 1", "twice_plus_one")
    c = k(b)
    cp.cuda.Stream.null.synchronize()
    print("cupy ok", float(c.sum()) > 0)


def run_jax():
    import jax
    import jax.numpy as jnp

    @jax.jit
    def f(x):
        return jnp.tanh(x @ x.T).sum()

    x = jnp.ones((1024, 1024), dtype=jnp.float32)
    print("jax ok", jax.devices()[0].platform, float(f(x)))


if __name__ == "__main__":
    {"cupy": run_cupy, "jax": run_jax}[sys.argv[1]]()
