/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one table of entry points cuslice interposes.
 *
 * Each row names an exported driver symbol exactly as libcuda.so.1 exports it
 * (with its ABI suffix: `_v2`, `_ptsz`, …), the base name a program passes to
 * cuGetProcAddress, the kind of wrapper to generate, whether it is the
 * per-thread-default-stream variant, the kind's extra argument, and the
 * parameter and argument lists. From this table come:
 *
 *   - the wrappers themselves (shim/hooks.c), exported under the same names
 *     for programs linked with -lcuda;
 *   - the table of real driver pointers, resolved once from libcuda.so.1;
 *   - the name map used by the dlsym and cuGetProcAddress interposers.
 *
 * cuGetProcAddress is not given a version range per row: the shim asks the
 * real driver which variant it would hand out for (name, cudaVersion, flags)
 * and returns the wrapper of that exact variant, matched by pointer. So the
 * driver's own versioning rules decide the ABI, and a variant that the table
 * lacks passes through untouched instead of being wrapped with the wrong
 * prototype.
 *
 * Adding a hook is one line. Kinds (see shim/wrap.h):
 *   LAUNCH      a kernel launch, paced by the gate; extra = (stream, function, grid size,
 *               where to write another stream, or NULL: see moves.h)
 *   MULTI       cooperative multi-device launch; extra = number of kernels
 *   HOSTFN      a host function enqueued on a stream; extra = the stream
 *   ORDERED     another operation on a stream, kept in order with the legacy stream
 *               where the context lacks that (legacy.c); extra = the stream, or
 *               NULL for a synchronous one (the legacy or, with ptsz, the
 *               per-thread stream)
 *   STREAM_NEW  a stream made; extra = (stream pointer, flags)
 *   STREAM_GONE a stream destroyed; extra = the stream
 *   GRAPH       a graph launch, paced by the gate; extra = (stream, executable graph)
 *   ALLOC       a device allocation, charged to the quota before the driver is
 *               called; extra = (kind of handle, device, size to reserve,
 *               handle, real size), the last two read only after success
 *   FREE        a device free; extra = (kind of handle, handle)
 *   VIEW        a memory query the tenant sees through its quota; extra = the view
 *   CONTEXT     makes a context, charged its cost; extra = (out ctx, device, primary)
 *   CONTEXT_GONE  ends one; extra = what to do after success
 *   CONTEXT_DESTROY, CONTEXT_RESET  end one that may be a partition's green context
 *   PASS        counted and passed through
 *   SYNC        the same; on success, the work waited for is done (gate.c);
 *               extra = 1 where the call blocks until then, 0 for a query
 *   CAPTURE     stream capture begins; CAPTURE_END it ends; extra = the stream
 *   INSTANTIATE graph instantiation; extra = (exec pointer, graph, instantiation flags)
 *   UPDATE      executable graph update; extra = (exec, graph)
 *   EXEC_EDIT   a node of an executable graph changed; extra = the exec
 *   EXEC_FREE   executable graph destroyed; extra = the exec
 *   MODULE      a module loaded: as a library's where the process may be moved, so
 *               that graphs of its kernels move too (modules.c); extra = (module
 *               pointer, file name or NULL, image, JIT option count, options, values)
 *   MODULE_GONE a module unloaded; extra = the module
 *   CUSTOM      written by hand (cuInit, cuGetProcAddress)
 */
#pragma once

/* clang-format off */
#define SHIM_DRIVER_HOOKS(X)                                                                        \
	X(cuInit, cuInit, CUSTOM, 0, (0), (unsigned int Flags), (Flags))                            \
	X(cuGetProcAddress, cuGetProcAddress, CUSTOM, 0, (0), (const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags), (symbol, pfn, cudaVersion, flags)) \
	X(cuGetProcAddress_v2, cuGetProcAddress, CUSTOM, 0, (0), (const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags, CUdriverProcAddressQueryResult *symbolStatus), (symbol, pfn, cudaVersion, flags, symbolStatus)) \
	/* kernel launches */                                                                       \
	X(cuLaunchKernel, cuLaunchKernel, LAUNCH, 0, (hStream, f, WRAP_GRID(gridDimX, gridDimY, gridDimZ), &hStream), (CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream, void **kernelParams, void **extra), (f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes, hStream, kernelParams, extra)) \
	X(cuLaunchKernel_ptsz, cuLaunchKernel, LAUNCH, 1, (hStream, f, WRAP_GRID(gridDimX, gridDimY, gridDimZ), &hStream), (CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream, void **kernelParams, void **extra), (f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes, hStream, kernelParams, extra)) \
	X(cuLaunchKernelEx, cuLaunchKernelEx, LAUNCH, 0, (wrap_config_stream(config), f, wrap_config_grid(config), wrap_config_slot(&config, &config_copy)), (const CUlaunchConfig *config, CUfunction f, void **kernelParams, void **extra), (config, f, kernelParams, extra)) \
	X(cuLaunchKernelEx_ptsz, cuLaunchKernelEx, LAUNCH, 1, (wrap_config_stream(config), f, wrap_config_grid(config), wrap_config_slot(&config, &config_copy)), (const CUlaunchConfig *config, CUfunction f, void **kernelParams, void **extra), (config, f, kernelParams, extra)) \
	X(cuLaunchCooperativeKernel, cuLaunchCooperativeKernel, LAUNCH, 0, (hStream, f, WRAP_GRID(gridDimX, gridDimY, gridDimZ), &hStream), (CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream, void **kernelParams), (f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes, hStream, kernelParams)) \
	X(cuLaunchCooperativeKernel_ptsz, cuLaunchCooperativeKernel, LAUNCH, 1, (hStream, f, WRAP_GRID(gridDimX, gridDimY, gridDimZ), &hStream), (CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream, void **kernelParams), (f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes, hStream, kernelParams)) \
	X(cuLaunchCooperativeKernelMultiDevice, cuLaunchCooperativeKernelMultiDevice, MULTI, 0, (numDevices), (CUDA_LAUNCH_PARAMS *launchParamsList, unsigned int numDevices, unsigned int flags), (launchParamsList, numDevices, flags)) \
	X(cuLaunch, cuLaunch, LAUNCH, 0, (NULL, f, 1, NULL), (CUfunction f), (f))                                 \
	X(cuLaunchGrid, cuLaunchGrid, LAUNCH, 0, (NULL, f, WRAP_GRID(grid_width, grid_height, 1), NULL), (CUfunction f, int grid_width, int grid_height), (f, grid_width, grid_height)) \
	X(cuLaunchGridAsync, cuLaunchGridAsync, LAUNCH, 0, (hStream, f, WRAP_GRID(grid_width, grid_height, 1), &hStream), (CUfunction f, int grid_width, int grid_height, CUstream hStream), (f, grid_width, grid_height, hStream)) \
	X(cuLaunchHostFunc, cuLaunchHostFunc, HOSTFN, 0, (hStream), (CUstream hStream, CUhostFn fn, void *userData), (hStream, fn, userData)) \
	X(cuLaunchHostFunc_ptsz, cuLaunchHostFunc, HOSTFN, 1, (hStream), (CUstream hStream, CUhostFn fn, void *userData), (hStream, fn, userData)) \
	X(cuGraphLaunch, cuGraphLaunch, GRAPH, 0, (hStream, hGraph), (CUgraphExec hGraph, CUstream hStream), (hGraph, hStream)) \
	X(cuGraphLaunch_ptsz, cuGraphLaunch, GRAPH, 1, (hStream, hGraphExec), (CUgraphExec hGraphExec, CUstream hStream), (hGraphExec, hStream)) \
	/* modules, loaded as libraries where graphs may move */                                    \
	X(cuModuleLoad, cuModuleLoad, MODULE, 0, (module, fname, NULL, 0, NULL, NULL), (CUmodule *module, const char *fname), (module, fname)) \
	X(cuModuleLoadData, cuModuleLoadData, MODULE, 0, (module, NULL, image, 0, NULL, NULL), (CUmodule *module, const void *image), (module, image)) \
	X(cuModuleLoadDataEx, cuModuleLoadDataEx, MODULE, 0, (module, NULL, image, numOptions, options, optionValues), (CUmodule *module, const void *image, unsigned int numOptions, CUjit_option *options, void **optionValues), (module, image, numOptions, options, optionValues)) \
	X(cuModuleLoadFatBinary, cuModuleLoadFatBinary, MODULE, 0, (module, NULL, fatCubin, 0, NULL, NULL), (CUmodule *module, const void *fatCubin), (module, fatCubin)) \
	X(cuModuleUnload, cuModuleUnload, MODULE_GONE, 0, (hmod), (CUmodule hmod), (hmod)) \
	/* graphs and stream capture, so that graph replays count the kernels they run */           \
	X(cuStreamBeginCapture, cuStreamBeginCapture, CAPTURE, 0, (hStream), (CUstream hStream), (hStream)) \
	X(cuStreamBeginCapture_ptsz, cuStreamBeginCapture, CAPTURE, 1, (hStream), (CUstream hStream), (hStream)) \
	X(cuStreamBeginCapture_v2, cuStreamBeginCapture, CAPTURE, 0, (hStream), (CUstream hStream, CUstreamCaptureMode mode), (hStream, mode)) \
	X(cuStreamBeginCapture_v2_ptsz, cuStreamBeginCapture, CAPTURE, 1, (hStream), (CUstream hStream, CUstreamCaptureMode mode), (hStream, mode)) \
	X(cuStreamBeginCaptureToGraph, cuStreamBeginCaptureToGraph, CAPTURE, 0, (hStream), (CUstream hStream, CUgraph hGraph, const CUgraphNode *dependencies, const CUgraphEdgeData *dependencyData, size_t numDependencies, CUstreamCaptureMode mode), (hStream, hGraph, dependencies, dependencyData, numDependencies, mode)) \
	X(cuStreamBeginCaptureToGraph_ptsz, cuStreamBeginCaptureToGraph, CAPTURE, 1, (hStream), (CUstream hStream, CUgraph hGraph, const CUgraphNode *dependencies, const CUgraphEdgeData *dependencyData, size_t numDependencies, CUstreamCaptureMode mode), (hStream, hGraph, dependencies, dependencyData, numDependencies, mode)) \
	X(cuStreamEndCapture, cuStreamEndCapture, CAPTURE_END, 0, (hStream), (CUstream hStream, CUgraph *phGraph), (hStream, phGraph)) \
	X(cuStreamEndCapture_ptsz, cuStreamEndCapture, CAPTURE_END, 1, (hStream), (CUstream hStream, CUgraph *phGraph), (hStream, phGraph)) \
	X(cuGraphInstantiate, cuGraphInstantiate, INSTANTIATE, 0, (phGraphExec, hGraph, 0), (CUgraphExec *phGraphExec, CUgraph hGraph, CUgraphNode *phErrorNode, char *logBuffer, size_t bufferSize), (phGraphExec, hGraph, phErrorNode, logBuffer, bufferSize)) \
	X(cuGraphInstantiate_v2, cuGraphInstantiate, INSTANTIATE, 0, (phGraphExec, hGraph, 0), (CUgraphExec *phGraphExec, CUgraph hGraph, CUgraphNode *phErrorNode, char *logBuffer, size_t bufferSize), (phGraphExec, hGraph, phErrorNode, logBuffer, bufferSize)) \
	X(cuGraphInstantiateWithFlags, cuGraphInstantiateWithFlags, INSTANTIATE, 0, (phGraphExec, hGraph, flags), (CUgraphExec *phGraphExec, CUgraph hGraph, unsigned long long flags), (phGraphExec, hGraph, flags)) \
	X(cuGraphInstantiateWithParams, cuGraphInstantiateWithParams, INSTANTIATE, 0, (phGraphExec, hGraph, instantiateParams ? instantiateParams->flags : 0), (CUgraphExec *phGraphExec, CUgraph hGraph, CUDA_GRAPH_INSTANTIATE_PARAMS *instantiateParams), (phGraphExec, hGraph, instantiateParams)) \
	X(cuGraphInstantiateWithParams_ptsz, cuGraphInstantiateWithParams, INSTANTIATE, 1, (phGraphExec, hGraph, instantiateParams ? instantiateParams->flags : 0), (CUgraphExec *phGraphExec, CUgraph hGraph, CUDA_GRAPH_INSTANTIATE_PARAMS *instantiateParams), (phGraphExec, hGraph, instantiateParams)) \
	X(cuGraphExecUpdate_v2, cuGraphExecUpdate, UPDATE, 0, (hGraphExec, hGraph), (CUgraphExec hGraphExec, CUgraph hGraph, CUgraphExecUpdateResultInfo *resultInfo), (hGraphExec, hGraph, resultInfo)) \
	X(cuGraphExecUpdate, cuGraphExecUpdate, UPDATE, 0, (hGraphExec, hGraph), (CUgraphExec hGraphExec, CUgraph hGraph, CUgraphNode *hErrorNode_out, CUgraphExecUpdateResult *updateResult_out), (hGraphExec, hGraph, hErrorNode_out, updateResult_out)) \
	X(cuGraphExecKernelNodeSetParams, cuGraphExecKernelNodeSetParams, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, const CUDA_KERNEL_NODE_PARAMS_v1 *nodeParams), (hGraphExec, hNode, nodeParams)) \
	X(cuGraphExecKernelNodeSetParams_v2, cuGraphExecKernelNodeSetParams, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, const CUDA_KERNEL_NODE_PARAMS *nodeParams), (hGraphExec, hNode, nodeParams)) \
	X(cuGraphExecMemcpyNodeSetParams, cuGraphExecMemcpyNodeSetParams, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, const CUDA_MEMCPY3D *copyParams, CUcontext ctx), (hGraphExec, hNode, copyParams, ctx)) \
	X(cuGraphExecMemsetNodeSetParams, cuGraphExecMemsetNodeSetParams, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, const CUDA_MEMSET_NODE_PARAMS *memsetParams, CUcontext ctx), (hGraphExec, hNode, memsetParams, ctx)) \
	X(cuGraphExecHostNodeSetParams, cuGraphExecHostNodeSetParams, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, const CUDA_HOST_NODE_PARAMS *nodeParams), (hGraphExec, hNode, nodeParams)) \
	X(cuGraphExecChildGraphNodeSetParams, cuGraphExecChildGraphNodeSetParams, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, CUgraph childGraph), (hGraphExec, hNode, childGraph)) \
	X(cuGraphExecEventRecordNodeSetEvent, cuGraphExecEventRecordNodeSetEvent, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, CUevent event), (hGraphExec, hNode, event)) \
	X(cuGraphExecEventWaitNodeSetEvent, cuGraphExecEventWaitNodeSetEvent, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, CUevent event), (hGraphExec, hNode, event)) \
	X(cuGraphExecExternalSemaphoresSignalNodeSetParams, cuGraphExecExternalSemaphoresSignalNodeSetParams, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, const CUDA_EXT_SEM_SIGNAL_NODE_PARAMS *nodeParams), (hGraphExec, hNode, nodeParams)) \
	X(cuGraphExecExternalSemaphoresWaitNodeSetParams, cuGraphExecExternalSemaphoresWaitNodeSetParams, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, const CUDA_EXT_SEM_WAIT_NODE_PARAMS *nodeParams), (hGraphExec, hNode, nodeParams)) \
	X(cuGraphExecBatchMemOpNodeSetParams, cuGraphExecBatchMemOpNodeSetParams, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, const CUDA_BATCH_MEM_OP_NODE_PARAMS *nodeParams), (hGraphExec, hNode, nodeParams)) \
	X(cuGraphExecNodeSetParams, cuGraphExecNodeSetParams, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, CUgraphNodeParams *nodeParams), (hGraphExec, hNode, nodeParams)) \
	X(cuGraphNodeSetEnabled, cuGraphNodeSetEnabled, EXEC_EDIT, 0, (hGraphExec), (CUgraphExec hGraphExec, CUgraphNode hNode, unsigned int isEnabled), (hGraphExec, hNode, isEnabled)) \
	X(cuGraphExecDestroy, cuGraphExecDestroy, EXEC_FREE, 0, (hGraphExec), (CUgraphExec hGraphExec), (hGraphExec)) \
	/* streams, and operations on them: ordered as the legacy stream would have them (legacy.c) */ \
	X(cuStreamCreate, cuStreamCreate, STREAM_NEW, 0, (phStream, Flags), (CUstream *phStream, unsigned int Flags), (phStream, Flags)) \
	X(cuStreamCreateWithPriority, cuStreamCreateWithPriority, STREAM_NEW, 0, (phStream, flags), (CUstream *phStream, unsigned int flags, int priority), (phStream, flags, priority)) \
	X(cuStreamDestroy, cuStreamDestroy, STREAM_GONE, 0, (hStream), (CUstream hStream), (hStream)) \
	X(cuStreamDestroy_v2, cuStreamDestroy, STREAM_GONE, 0, (hStream), (CUstream hStream), (hStream)) \
	X(cuEventRecord, cuEventRecord, ORDERED, 0, (hStream), (CUevent hEvent, CUstream hStream), (hEvent, hStream)) \
	X(cuEventRecordWithFlags, cuEventRecordWithFlags, ORDERED, 0, (hStream), (CUevent hEvent, CUstream hStream, unsigned int flags), (hEvent, hStream, flags)) \
	X(cuEventRecordWithFlags_ptsz, cuEventRecordWithFlags, ORDERED, 1, (hStream), (CUevent hEvent, CUstream hStream, unsigned int flags), (hEvent, hStream, flags)) \
	X(cuEventRecord_ptsz, cuEventRecord, ORDERED, 1, (hStream), (CUevent hEvent, CUstream hStream), (hEvent, hStream)) \
	X(cuGraphUpload, cuGraphUpload, ORDERED, 0, (hStream), (CUgraphExec hGraph, CUstream hStream), (hGraph, hStream)) \
	X(cuGraphUpload_ptsz, cuGraphUpload, ORDERED, 1, (hStream), (CUgraphExec hGraphExec, CUstream hStream), (hGraphExec, hStream)) \
	X(cuGraphicsMapResources, cuGraphicsMapResources, ORDERED, 0, (hStream), (unsigned int count, CUgraphicsResource *resources, CUstream hStream), (count, resources, hStream)) \
	X(cuGraphicsMapResources_ptsz, cuGraphicsMapResources, ORDERED, 1, (hStream), (unsigned int count, CUgraphicsResource *resources, CUstream hStream), (count, resources, hStream)) \
	X(cuGraphicsUnmapResources, cuGraphicsUnmapResources, ORDERED, 0, (hStream), (unsigned int count, CUgraphicsResource *resources, CUstream hStream), (count, resources, hStream)) \
	X(cuGraphicsUnmapResources_ptsz, cuGraphicsUnmapResources, ORDERED, 1, (hStream), (unsigned int count, CUgraphicsResource *resources, CUstream hStream), (count, resources, hStream)) \
	X(cuMemBatchDecompressAsync, cuMemBatchDecompressAsync, ORDERED, 0, (stream), (CUmemDecompressParams *paramsArray, size_t count, unsigned int flags, size_t *errorIndex, CUstream stream), (paramsArray, count, flags, errorIndex, stream)) \
	X(cuMemBatchDecompressAsync_ptsz, cuMemBatchDecompressAsync, ORDERED, 1, (stream), (CUmemDecompressParams *paramsArray, size_t count, unsigned int flags, size_t *errorIndex, CUstream stream), (paramsArray, count, flags, errorIndex, stream)) \
	X(cuMemDiscardAndPrefetchBatchAsync, cuMemDiscardAndPrefetchBatchAsync, ORDERED, 0, (hStream), (CUdeviceptr *dptrs, size_t *sizes, size_t count, CUmemLocation *prefetchLocs, size_t *prefetchLocIdxs, size_t numPrefetchLocs, unsigned long long flags, CUstream hStream), (dptrs, sizes, count, prefetchLocs, prefetchLocIdxs, numPrefetchLocs, flags, hStream)) \
	X(cuMemDiscardAndPrefetchBatchAsync_ptsz, cuMemDiscardAndPrefetchBatchAsync, ORDERED, 1, (hStream), (CUdeviceptr *dptrs, size_t *sizes, size_t count, CUmemLocation *prefetchLocs, size_t *prefetchLocIdxs, size_t numPrefetchLocs, unsigned long long flags, CUstream hStream), (dptrs, sizes, count, prefetchLocs, prefetchLocIdxs, numPrefetchLocs, flags, hStream)) \
	X(cuMemDiscardBatchAsync, cuMemDiscardBatchAsync, ORDERED, 0, (hStream), (CUdeviceptr *dptrs, size_t *sizes, size_t count, unsigned long long flags, CUstream hStream), (dptrs, sizes, count, flags, hStream)) \
	X(cuMemDiscardBatchAsync_ptsz, cuMemDiscardBatchAsync, ORDERED, 1, (hStream), (CUdeviceptr *dptrs, size_t *sizes, size_t count, unsigned long long flags, CUstream hStream), (dptrs, sizes, count, flags, hStream)) \
	X(cuMemMapArrayAsync, cuMemMapArrayAsync, ORDERED, 0, (hStream), (CUarrayMapInfo *mapInfoList, unsigned int count, CUstream hStream), (mapInfoList, count, hStream)) \
	X(cuMemMapArrayAsync_ptsz, cuMemMapArrayAsync, ORDERED, 1, (hStream), (CUarrayMapInfo *mapInfoList, unsigned int count, CUstream hStream), (mapInfoList, count, hStream)) \
	X(cuMemPrefetchAsync, cuMemPrefetchAsync, ORDERED, 0, (hStream), (CUdeviceptr devPtr, size_t count, CUdevice dstDevice, CUstream hStream), (devPtr, count, dstDevice, hStream)) \
	X(cuMemPrefetchAsync_ptsz, cuMemPrefetchAsync, ORDERED, 1, (hStream), (CUdeviceptr devPtr, size_t count, CUdevice dstDevice, CUstream hStream), (devPtr, count, dstDevice, hStream)) \
	X(cuMemPrefetchAsync_v2, cuMemPrefetchAsync, ORDERED, 0, (hStream), (CUdeviceptr devPtr, size_t count, CUmemLocation location, unsigned int flags, CUstream hStream), (devPtr, count, location, flags, hStream)) \
	X(cuMemPrefetchAsync_v2_ptsz, cuMemPrefetchAsync, ORDERED, 1, (hStream), (CUdeviceptr devPtr, size_t count, CUmemLocation location, unsigned int flags, CUstream hStream), (devPtr, count, location, flags, hStream)) \
	X(cuMemPrefetchBatchAsync, cuMemPrefetchBatchAsync, ORDERED, 0, (hStream), (CUdeviceptr *dptrs, size_t *sizes, size_t count, CUmemLocation *prefetchLocs, size_t *prefetchLocIdxs, size_t numPrefetchLocs, unsigned long long flags, CUstream hStream), (dptrs, sizes, count, prefetchLocs, prefetchLocIdxs, numPrefetchLocs, flags, hStream)) \
	X(cuMemPrefetchBatchAsync_ptsz, cuMemPrefetchBatchAsync, ORDERED, 1, (hStream), (CUdeviceptr *dptrs, size_t *sizes, size_t count, CUmemLocation *prefetchLocs, size_t *prefetchLocIdxs, size_t numPrefetchLocs, unsigned long long flags, CUstream hStream), (dptrs, sizes, count, prefetchLocs, prefetchLocIdxs, numPrefetchLocs, flags, hStream)) \
	X(cuMemcpy, cuMemcpy, ORDERED, 0, (NULL), (CUdeviceptr dst, CUdeviceptr src, size_t ByteCount), (dst, src, ByteCount)) \
	X(cuMemcpy2D, cuMemcpy2D, ORDERED, 0, (NULL), (const CUDA_MEMCPY2D_v1 *pCopy), (pCopy)) \
	X(cuMemcpy2DAsync, cuMemcpy2DAsync, ORDERED, 0, (hStream), (const CUDA_MEMCPY2D_v1 *pCopy, CUstream hStream), (pCopy, hStream)) \
	X(cuMemcpy2DAsync_v2, cuMemcpy2DAsync, ORDERED, 0, (hStream), (const CUDA_MEMCPY2D *pCopy, CUstream hStream), (pCopy, hStream)) \
	X(cuMemcpy2DAsync_v2_ptsz, cuMemcpy2DAsync, ORDERED, 1, (hStream), (const CUDA_MEMCPY2D *pCopy, CUstream hStream), (pCopy, hStream)) \
	X(cuMemcpy2DUnaligned, cuMemcpy2DUnaligned, ORDERED, 0, (NULL), (const CUDA_MEMCPY2D_v1 *pCopy), (pCopy)) \
	X(cuMemcpy2DUnaligned_v2, cuMemcpy2DUnaligned, ORDERED, 0, (NULL), (const CUDA_MEMCPY2D *pCopy), (pCopy)) \
	X(cuMemcpy2DUnaligned_v2_ptds, cuMemcpy2DUnaligned, ORDERED, 1, (NULL), (const CUDA_MEMCPY2D *pCopy), (pCopy)) \
	X(cuMemcpy2D_v2, cuMemcpy2D, ORDERED, 0, (NULL), (const CUDA_MEMCPY2D *pCopy), (pCopy)) \
	X(cuMemcpy2D_v2_ptds, cuMemcpy2D, ORDERED, 1, (NULL), (const CUDA_MEMCPY2D *pCopy), (pCopy)) \
	X(cuMemcpy3D, cuMemcpy3D, ORDERED, 0, (NULL), (const CUDA_MEMCPY3D_v1 *pCopy), (pCopy)) \
	X(cuMemcpy3DAsync, cuMemcpy3DAsync, ORDERED, 0, (hStream), (const CUDA_MEMCPY3D_v1 *pCopy, CUstream hStream), (pCopy, hStream)) \
	X(cuMemcpy3DAsync_v2, cuMemcpy3DAsync, ORDERED, 0, (hStream), (const CUDA_MEMCPY3D *pCopy, CUstream hStream), (pCopy, hStream)) \
	X(cuMemcpy3DAsync_v2_ptsz, cuMemcpy3DAsync, ORDERED, 1, (hStream), (const CUDA_MEMCPY3D *pCopy, CUstream hStream), (pCopy, hStream)) \
	X(cuMemcpy3DBatchAsync, cuMemcpy3DBatchAsync, ORDERED, 0, (hStream), (size_t numOps, CUDA_MEMCPY3D_BATCH_OP *opList, size_t *failIdx, unsigned long long flags, CUstream hStream), (numOps, opList, failIdx, flags, hStream)) \
	X(cuMemcpy3DBatchAsync_ptsz, cuMemcpy3DBatchAsync, ORDERED, 1, (hStream), (size_t numOps, CUDA_MEMCPY3D_BATCH_OP *opList, size_t *failIdx, unsigned long long flags, CUstream hStream), (numOps, opList, failIdx, flags, hStream)) \
	X(cuMemcpy3DBatchAsync_v2, cuMemcpy3DBatchAsync, ORDERED, 0, (hStream), (size_t numOps, CUDA_MEMCPY3D_BATCH_OP *opList, unsigned long long flags, CUstream hStream), (numOps, opList, flags, hStream)) \
	X(cuMemcpy3DBatchAsync_v2_ptsz, cuMemcpy3DBatchAsync, ORDERED, 1, (hStream), (size_t numOps, CUDA_MEMCPY3D_BATCH_OP *opList, unsigned long long flags, CUstream hStream), (numOps, opList, flags, hStream)) \
	X(cuMemcpy3DPeer, cuMemcpy3DPeer, ORDERED, 0, (NULL), (const CUDA_MEMCPY3D_PEER *pCopy), (pCopy)) \
	X(cuMemcpy3DPeerAsync, cuMemcpy3DPeerAsync, ORDERED, 0, (hStream), (const CUDA_MEMCPY3D_PEER *pCopy, CUstream hStream), (pCopy, hStream)) \
	X(cuMemcpy3DPeerAsync_ptsz, cuMemcpy3DPeerAsync, ORDERED, 1, (hStream), (const CUDA_MEMCPY3D_PEER *pCopy, CUstream hStream), (pCopy, hStream)) \
	X(cuMemcpy3DPeer_ptds, cuMemcpy3DPeer, ORDERED, 1, (NULL), (const CUDA_MEMCPY3D_PEER *pCopy), (pCopy)) \
	X(cuMemcpy3D_v2, cuMemcpy3D, ORDERED, 0, (NULL), (const CUDA_MEMCPY3D *pCopy), (pCopy)) \
	X(cuMemcpy3D_v2_ptds, cuMemcpy3D, ORDERED, 1, (NULL), (const CUDA_MEMCPY3D *pCopy), (pCopy)) \
	X(cuMemcpyAsync, cuMemcpyAsync, ORDERED, 0, (hStream), (CUdeviceptr dst, CUdeviceptr src, size_t ByteCount, CUstream hStream), (dst, src, ByteCount, hStream)) \
	X(cuMemcpyAsync_ptsz, cuMemcpyAsync, ORDERED, 1, (hStream), (CUdeviceptr dst, CUdeviceptr src, size_t ByteCount, CUstream hStream), (dst, src, ByteCount, hStream)) \
	X(cuMemcpyAtoA, cuMemcpyAtoA, ORDERED, 0, (NULL), (CUarray dstArray, unsigned int dstOffset, CUarray srcArray, unsigned int srcOffset, unsigned int ByteCount), (dstArray, dstOffset, srcArray, srcOffset, ByteCount)) \
	X(cuMemcpyAtoA_v2, cuMemcpyAtoA, ORDERED, 0, (NULL), (CUarray dstArray, size_t dstOffset, CUarray srcArray, size_t srcOffset, size_t ByteCount), (dstArray, dstOffset, srcArray, srcOffset, ByteCount)) \
	X(cuMemcpyAtoA_v2_ptds, cuMemcpyAtoA, ORDERED, 1, (NULL), (CUarray dstArray, size_t dstOffset, CUarray srcArray, size_t srcOffset, size_t ByteCount), (dstArray, dstOffset, srcArray, srcOffset, ByteCount)) \
	X(cuMemcpyAtoD, cuMemcpyAtoD, ORDERED, 0, (NULL), (CUdeviceptr_v1 dstDevice, CUarray srcArray, unsigned int srcOffset, unsigned int ByteCount), (dstDevice, srcArray, srcOffset, ByteCount)) \
	X(cuMemcpyAtoD_v2, cuMemcpyAtoD, ORDERED, 0, (NULL), (CUdeviceptr dstDevice, CUarray srcArray, size_t srcOffset, size_t ByteCount), (dstDevice, srcArray, srcOffset, ByteCount)) \
	X(cuMemcpyAtoD_v2_ptds, cuMemcpyAtoD, ORDERED, 1, (NULL), (CUdeviceptr dstDevice, CUarray srcArray, size_t srcOffset, size_t ByteCount), (dstDevice, srcArray, srcOffset, ByteCount)) \
	X(cuMemcpyAtoH, cuMemcpyAtoH, ORDERED, 0, (NULL), (void *dstHost, CUarray srcArray, unsigned int srcOffset, unsigned int ByteCount), (dstHost, srcArray, srcOffset, ByteCount)) \
	X(cuMemcpyAtoHAsync, cuMemcpyAtoHAsync, ORDERED, 0, (hStream), (void *dstHost, CUarray srcArray, unsigned int srcOffset, unsigned int ByteCount, CUstream hStream), (dstHost, srcArray, srcOffset, ByteCount, hStream)) \
	X(cuMemcpyAtoHAsync_v2, cuMemcpyAtoHAsync, ORDERED, 0, (hStream), (void *dstHost, CUarray srcArray, size_t srcOffset, size_t ByteCount, CUstream hStream), (dstHost, srcArray, srcOffset, ByteCount, hStream)) \
	X(cuMemcpyAtoHAsync_v2_ptsz, cuMemcpyAtoHAsync, ORDERED, 1, (hStream), (void *dstHost, CUarray srcArray, size_t srcOffset, size_t ByteCount, CUstream hStream), (dstHost, srcArray, srcOffset, ByteCount, hStream)) \
	X(cuMemcpyAtoH_v2, cuMemcpyAtoH, ORDERED, 0, (NULL), (void *dstHost, CUarray srcArray, size_t srcOffset, size_t ByteCount), (dstHost, srcArray, srcOffset, ByteCount)) \
	X(cuMemcpyAtoH_v2_ptds, cuMemcpyAtoH, ORDERED, 1, (NULL), (void *dstHost, CUarray srcArray, size_t srcOffset, size_t ByteCount), (dstHost, srcArray, srcOffset, ByteCount)) \
	X(cuMemcpyBatchAsync, cuMemcpyBatchAsync, ORDERED, 0, (hStream), (CUdeviceptr *dsts, CUdeviceptr *srcs, size_t *sizes, size_t count, CUmemcpyAttributes *attrs, size_t *attrsIdxs, size_t numAttrs, size_t *failIdx, CUstream hStream), (dsts, srcs, sizes, count, attrs, attrsIdxs, numAttrs, failIdx, hStream)) \
	X(cuMemcpyBatchAsync_ptsz, cuMemcpyBatchAsync, ORDERED, 1, (hStream), (CUdeviceptr *dsts, CUdeviceptr *srcs, size_t *sizes, size_t count, CUmemcpyAttributes *attrs, size_t *attrsIdxs, size_t numAttrs, size_t *failIdx, CUstream hStream), (dsts, srcs, sizes, count, attrs, attrsIdxs, numAttrs, failIdx, hStream)) \
	X(cuMemcpyBatchAsync_v2, cuMemcpyBatchAsync, ORDERED, 0, (hStream), (CUdeviceptr *dsts, CUdeviceptr *srcs, size_t *sizes, size_t count, CUmemcpyAttributes *attrs, size_t *attrsIdxs, size_t numAttrs, CUstream hStream), (dsts, srcs, sizes, count, attrs, attrsIdxs, numAttrs, hStream)) \
	X(cuMemcpyBatchAsync_v2_ptsz, cuMemcpyBatchAsync, ORDERED, 1, (hStream), (CUdeviceptr *dsts, CUdeviceptr *srcs, size_t *sizes, size_t count, CUmemcpyAttributes *attrs, size_t *attrsIdxs, size_t numAttrs, CUstream hStream), (dsts, srcs, sizes, count, attrs, attrsIdxs, numAttrs, hStream)) \
	X(cuMemcpyDtoA, cuMemcpyDtoA, ORDERED, 0, (NULL), (CUarray dstArray, unsigned int dstOffset, CUdeviceptr_v1 srcDevice, unsigned int ByteCount), (dstArray, dstOffset, srcDevice, ByteCount)) \
	X(cuMemcpyDtoA_v2, cuMemcpyDtoA, ORDERED, 0, (NULL), (CUarray dstArray, size_t dstOffset, CUdeviceptr srcDevice, size_t ByteCount), (dstArray, dstOffset, srcDevice, ByteCount)) \
	X(cuMemcpyDtoA_v2_ptds, cuMemcpyDtoA, ORDERED, 1, (NULL), (CUarray dstArray, size_t dstOffset, CUdeviceptr srcDevice, size_t ByteCount), (dstArray, dstOffset, srcDevice, ByteCount)) \
	X(cuMemcpyDtoD, cuMemcpyDtoD, ORDERED, 0, (NULL), (CUdeviceptr_v1 dstDevice, CUdeviceptr_v1 srcDevice, unsigned int ByteCount), (dstDevice, srcDevice, ByteCount)) \
	X(cuMemcpyDtoDAsync, cuMemcpyDtoDAsync, ORDERED, 0, (hStream), (CUdeviceptr_v1 dstDevice, CUdeviceptr_v1 srcDevice, unsigned int ByteCount, CUstream hStream), (dstDevice, srcDevice, ByteCount, hStream)) \
	X(cuMemcpyDtoDAsync_v2, cuMemcpyDtoDAsync, ORDERED, 0, (hStream), (CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream), (dstDevice, srcDevice, ByteCount, hStream)) \
	X(cuMemcpyDtoDAsync_v2_ptsz, cuMemcpyDtoDAsync, ORDERED, 1, (hStream), (CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream), (dstDevice, srcDevice, ByteCount, hStream)) \
	X(cuMemcpyDtoD_v2, cuMemcpyDtoD, ORDERED, 0, (NULL), (CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount), (dstDevice, srcDevice, ByteCount)) \
	X(cuMemcpyDtoD_v2_ptds, cuMemcpyDtoD, ORDERED, 1, (NULL), (CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount), (dstDevice, srcDevice, ByteCount)) \
	X(cuMemcpyDtoH, cuMemcpyDtoH, ORDERED, 0, (NULL), (void *dstHost, CUdeviceptr_v1 srcDevice, unsigned int ByteCount), (dstHost, srcDevice, ByteCount)) \
	X(cuMemcpyDtoHAsync, cuMemcpyDtoHAsync, ORDERED, 0, (hStream), (void *dstHost, CUdeviceptr_v1 srcDevice, unsigned int ByteCount, CUstream hStream), (dstHost, srcDevice, ByteCount, hStream)) \
	X(cuMemcpyDtoHAsync_v2, cuMemcpyDtoHAsync, ORDERED, 0, (hStream), (void *dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream), (dstHost, srcDevice, ByteCount, hStream)) \
	X(cuMemcpyDtoHAsync_v2_ptsz, cuMemcpyDtoHAsync, ORDERED, 1, (hStream), (void *dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream), (dstHost, srcDevice, ByteCount, hStream)) \
	X(cuMemcpyDtoH_v2, cuMemcpyDtoH, ORDERED, 0, (NULL), (void *dstHost, CUdeviceptr srcDevice, size_t ByteCount), (dstHost, srcDevice, ByteCount)) \
	X(cuMemcpyDtoH_v2_ptds, cuMemcpyDtoH, ORDERED, 1, (NULL), (void *dstHost, CUdeviceptr srcDevice, size_t ByteCount), (dstHost, srcDevice, ByteCount)) \
	X(cuMemcpyHtoA, cuMemcpyHtoA, ORDERED, 0, (NULL), (CUarray dstArray, unsigned int dstOffset, const void *srcHost, unsigned int ByteCount), (dstArray, dstOffset, srcHost, ByteCount)) \
	X(cuMemcpyHtoAAsync, cuMemcpyHtoAAsync, ORDERED, 0, (hStream), (CUarray dstArray, unsigned int dstOffset, const void *srcHost, unsigned int ByteCount, CUstream hStream), (dstArray, dstOffset, srcHost, ByteCount, hStream)) \
	X(cuMemcpyHtoAAsync_v2, cuMemcpyHtoAAsync, ORDERED, 0, (hStream), (CUarray dstArray, size_t dstOffset, const void *srcHost, size_t ByteCount, CUstream hStream), (dstArray, dstOffset, srcHost, ByteCount, hStream)) \
	X(cuMemcpyHtoAAsync_v2_ptsz, cuMemcpyHtoAAsync, ORDERED, 1, (hStream), (CUarray dstArray, size_t dstOffset, const void *srcHost, size_t ByteCount, CUstream hStream), (dstArray, dstOffset, srcHost, ByteCount, hStream)) \
	X(cuMemcpyHtoA_v2, cuMemcpyHtoA, ORDERED, 0, (NULL), (CUarray dstArray, size_t dstOffset, const void *srcHost, size_t ByteCount), (dstArray, dstOffset, srcHost, ByteCount)) \
	X(cuMemcpyHtoA_v2_ptds, cuMemcpyHtoA, ORDERED, 1, (NULL), (CUarray dstArray, size_t dstOffset, const void *srcHost, size_t ByteCount), (dstArray, dstOffset, srcHost, ByteCount)) \
	X(cuMemcpyHtoD, cuMemcpyHtoD, ORDERED, 0, (NULL), (CUdeviceptr_v1 dstDevice, const void *srcHost, unsigned int ByteCount), (dstDevice, srcHost, ByteCount)) \
	X(cuMemcpyHtoDAsync, cuMemcpyHtoDAsync, ORDERED, 0, (hStream), (CUdeviceptr_v1 dstDevice, const void *srcHost, unsigned int ByteCount, CUstream hStream), (dstDevice, srcHost, ByteCount, hStream)) \
	X(cuMemcpyHtoDAsync_v2, cuMemcpyHtoDAsync, ORDERED, 0, (hStream), (CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount, CUstream hStream), (dstDevice, srcHost, ByteCount, hStream)) \
	X(cuMemcpyHtoDAsync_v2_ptsz, cuMemcpyHtoDAsync, ORDERED, 1, (hStream), (CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount, CUstream hStream), (dstDevice, srcHost, ByteCount, hStream)) \
	X(cuMemcpyHtoD_v2, cuMemcpyHtoD, ORDERED, 0, (NULL), (CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount), (dstDevice, srcHost, ByteCount)) \
	X(cuMemcpyHtoD_v2_ptds, cuMemcpyHtoD, ORDERED, 1, (NULL), (CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount), (dstDevice, srcHost, ByteCount)) \
	X(cuMemcpyPeer, cuMemcpyPeer, ORDERED, 0, (NULL), (CUdeviceptr dstDevice, CUcontext dstContext, CUdeviceptr srcDevice, CUcontext srcContext, size_t ByteCount), (dstDevice, dstContext, srcDevice, srcContext, ByteCount)) \
	X(cuMemcpyPeerAsync, cuMemcpyPeerAsync, ORDERED, 0, (hStream), (CUdeviceptr dstDevice, CUcontext dstContext, CUdeviceptr srcDevice, CUcontext srcContext, size_t ByteCount, CUstream hStream), (dstDevice, dstContext, srcDevice, srcContext, ByteCount, hStream)) \
	X(cuMemcpyPeerAsync_ptsz, cuMemcpyPeerAsync, ORDERED, 1, (hStream), (CUdeviceptr dstDevice, CUcontext dstContext, CUdeviceptr srcDevice, CUcontext srcContext, size_t ByteCount, CUstream hStream), (dstDevice, dstContext, srcDevice, srcContext, ByteCount, hStream)) \
	X(cuMemcpyPeer_ptds, cuMemcpyPeer, ORDERED, 1, (NULL), (CUdeviceptr dstDevice, CUcontext dstContext, CUdeviceptr srcDevice, CUcontext srcContext, size_t ByteCount), (dstDevice, dstContext, srcDevice, srcContext, ByteCount)) \
	X(cuMemcpy_ptds, cuMemcpy, ORDERED, 1, (NULL), (CUdeviceptr dst, CUdeviceptr src, size_t ByteCount), (dst, src, ByteCount)) \
	X(cuMemsetD16, cuMemsetD16, ORDERED, 0, (NULL), (CUdeviceptr_v1 dstDevice, unsigned short us, unsigned int N), (dstDevice, us, N)) \
	X(cuMemsetD16Async, cuMemsetD16Async, ORDERED, 0, (hStream), (CUdeviceptr dstDevice, unsigned short us, size_t N, CUstream hStream), (dstDevice, us, N, hStream)) \
	X(cuMemsetD16Async_ptsz, cuMemsetD16Async, ORDERED, 1, (hStream), (CUdeviceptr dstDevice, unsigned short us, size_t N, CUstream hStream), (dstDevice, us, N, hStream)) \
	X(cuMemsetD16_v2, cuMemsetD16, ORDERED, 0, (NULL), (CUdeviceptr dstDevice, unsigned short us, size_t N), (dstDevice, us, N)) \
	X(cuMemsetD16_v2_ptds, cuMemsetD16, ORDERED, 1, (NULL), (CUdeviceptr dstDevice, unsigned short us, size_t N), (dstDevice, us, N)) \
	X(cuMemsetD2D16, cuMemsetD2D16, ORDERED, 0, (NULL), (CUdeviceptr_v1 dstDevice, unsigned int dstPitch, unsigned short us, unsigned int Width, unsigned int Height), (dstDevice, dstPitch, us, Width, Height)) \
	X(cuMemsetD2D16Async, cuMemsetD2D16Async, ORDERED, 0, (hStream), (CUdeviceptr dstDevice, size_t dstPitch, unsigned short us, size_t Width, size_t Height, CUstream hStream), (dstDevice, dstPitch, us, Width, Height, hStream)) \
	X(cuMemsetD2D16Async_ptsz, cuMemsetD2D16Async, ORDERED, 1, (hStream), (CUdeviceptr dstDevice, size_t dstPitch, unsigned short us, size_t Width, size_t Height, CUstream hStream), (dstDevice, dstPitch, us, Width, Height, hStream)) \
	X(cuMemsetD2D16_v2, cuMemsetD2D16, ORDERED, 0, (NULL), (CUdeviceptr dstDevice, size_t dstPitch, unsigned short us, size_t Width, size_t Height), (dstDevice, dstPitch, us, Width, Height)) \
	X(cuMemsetD2D16_v2_ptds, cuMemsetD2D16, ORDERED, 1, (NULL), (CUdeviceptr dstDevice, size_t dstPitch, unsigned short us, size_t Width, size_t Height), (dstDevice, dstPitch, us, Width, Height)) \
	X(cuMemsetD2D32, cuMemsetD2D32, ORDERED, 0, (NULL), (CUdeviceptr_v1 dstDevice, unsigned int dstPitch, unsigned int ui, unsigned int Width, unsigned int Height), (dstDevice, dstPitch, ui, Width, Height)) \
	X(cuMemsetD2D32Async, cuMemsetD2D32Async, ORDERED, 0, (hStream), (CUdeviceptr dstDevice, size_t dstPitch, unsigned int ui, size_t Width, size_t Height, CUstream hStream), (dstDevice, dstPitch, ui, Width, Height, hStream)) \
	X(cuMemsetD2D32Async_ptsz, cuMemsetD2D32Async, ORDERED, 1, (hStream), (CUdeviceptr dstDevice, size_t dstPitch, unsigned int ui, size_t Width, size_t Height, CUstream hStream), (dstDevice, dstPitch, ui, Width, Height, hStream)) \
	X(cuMemsetD2D32_v2, cuMemsetD2D32, ORDERED, 0, (NULL), (CUdeviceptr dstDevice, size_t dstPitch, unsigned int ui, size_t Width, size_t Height), (dstDevice, dstPitch, ui, Width, Height)) \
	X(cuMemsetD2D32_v2_ptds, cuMemsetD2D32, ORDERED, 1, (NULL), (CUdeviceptr dstDevice, size_t dstPitch, unsigned int ui, size_t Width, size_t Height), (dstDevice, dstPitch, ui, Width, Height)) \
	X(cuMemsetD2D8, cuMemsetD2D8, ORDERED, 0, (NULL), (CUdeviceptr_v1 dstDevice, unsigned int dstPitch, unsigned char uc, unsigned int Width, unsigned int Height), (dstDevice, dstPitch, uc, Width, Height)) \
	X(cuMemsetD2D8Async, cuMemsetD2D8Async, ORDERED, 0, (hStream), (CUdeviceptr dstDevice, size_t dstPitch, unsigned char uc, size_t Width, size_t Height, CUstream hStream), (dstDevice, dstPitch, uc, Width, Height, hStream)) \
	X(cuMemsetD2D8Async_ptsz, cuMemsetD2D8Async, ORDERED, 1, (hStream), (CUdeviceptr dstDevice, size_t dstPitch, unsigned char uc, size_t Width, size_t Height, CUstream hStream), (dstDevice, dstPitch, uc, Width, Height, hStream)) \
	X(cuMemsetD2D8_v2, cuMemsetD2D8, ORDERED, 0, (NULL), (CUdeviceptr dstDevice, size_t dstPitch, unsigned char uc, size_t Width, size_t Height), (dstDevice, dstPitch, uc, Width, Height)) \
	X(cuMemsetD2D8_v2_ptds, cuMemsetD2D8, ORDERED, 1, (NULL), (CUdeviceptr dstDevice, size_t dstPitch, unsigned char uc, size_t Width, size_t Height), (dstDevice, dstPitch, uc, Width, Height)) \
	X(cuMemsetD32, cuMemsetD32, ORDERED, 0, (NULL), (CUdeviceptr_v1 dstDevice, unsigned int ui, unsigned int N), (dstDevice, ui, N)) \
	X(cuMemsetD32Async, cuMemsetD32Async, ORDERED, 0, (hStream), (CUdeviceptr dstDevice, unsigned int ui, size_t N, CUstream hStream), (dstDevice, ui, N, hStream)) \
	X(cuMemsetD32Async_ptsz, cuMemsetD32Async, ORDERED, 1, (hStream), (CUdeviceptr dstDevice, unsigned int ui, size_t N, CUstream hStream), (dstDevice, ui, N, hStream)) \
	X(cuMemsetD32_v2, cuMemsetD32, ORDERED, 0, (NULL), (CUdeviceptr dstDevice, unsigned int ui, size_t N), (dstDevice, ui, N)) \
	X(cuMemsetD32_v2_ptds, cuMemsetD32, ORDERED, 1, (NULL), (CUdeviceptr dstDevice, unsigned int ui, size_t N), (dstDevice, ui, N)) \
	X(cuMemsetD8, cuMemsetD8, ORDERED, 0, (NULL), (CUdeviceptr_v1 dstDevice, unsigned char uc, unsigned int N), (dstDevice, uc, N)) \
	X(cuMemsetD8Async, cuMemsetD8Async, ORDERED, 0, (hStream), (CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream), (dstDevice, uc, N, hStream)) \
	X(cuMemsetD8Async_ptsz, cuMemsetD8Async, ORDERED, 1, (hStream), (CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream), (dstDevice, uc, N, hStream)) \
	X(cuMemsetD8_v2, cuMemsetD8, ORDERED, 0, (NULL), (CUdeviceptr dstDevice, unsigned char uc, size_t N), (dstDevice, uc, N)) \
	X(cuMemsetD8_v2_ptds, cuMemsetD8, ORDERED, 1, (NULL), (CUdeviceptr dstDevice, unsigned char uc, size_t N), (dstDevice, uc, N)) \
	X(cuSignalExternalSemaphoresAsync, cuSignalExternalSemaphoresAsync, ORDERED, 0, (stream), (const CUexternalSemaphore *extSemArray, const CUDA_EXTERNAL_SEMAPHORE_SIGNAL_PARAMS *paramsArray, unsigned int numExtSems, CUstream stream), (extSemArray, paramsArray, numExtSems, stream)) \
	X(cuSignalExternalSemaphoresAsync_ptsz, cuSignalExternalSemaphoresAsync, ORDERED, 1, (stream), (const CUexternalSemaphore *extSemArray, const CUDA_EXTERNAL_SEMAPHORE_SIGNAL_PARAMS *paramsArray, unsigned int numExtSems, CUstream stream), (extSemArray, paramsArray, numExtSems, stream)) \
	X(cuStreamAddCallback, cuStreamAddCallback, ORDERED, 0, (hStream), (CUstream hStream, CUstreamCallback callback, void *userData, unsigned int flags), (hStream, callback, userData, flags)) \
	X(cuStreamAddCallback_ptsz, cuStreamAddCallback, ORDERED, 1, (hStream), (CUstream hStream, CUstreamCallback callback, void *userData, unsigned int flags), (hStream, callback, userData, flags)) \
	X(cuStreamAttachMemAsync, cuStreamAttachMemAsync, ORDERED, 0, (hStream), (CUstream hStream, CUdeviceptr dptr, size_t length, unsigned int flags), (hStream, dptr, length, flags)) \
	X(cuStreamAttachMemAsync_ptsz, cuStreamAttachMemAsync, ORDERED, 1, (hStream), (CUstream hStream, CUdeviceptr dptr, size_t length, unsigned int flags), (hStream, dptr, length, flags)) \
	X(cuStreamBatchMemOp, cuStreamBatchMemOp, ORDERED, 0, (stream), (CUstream stream, unsigned int count, CUstreamBatchMemOpParams *paramArray, unsigned int flags), (stream, count, paramArray, flags)) \
	X(cuStreamBatchMemOp_ptsz, cuStreamBatchMemOp, ORDERED, 1, (stream), (CUstream stream, unsigned int count, CUstreamBatchMemOpParams *paramArray, unsigned int flags), (stream, count, paramArray, flags)) \
	X(cuStreamBatchMemOp_v2, cuStreamBatchMemOp, ORDERED, 0, (stream), (CUstream stream, unsigned int count, CUstreamBatchMemOpParams *paramArray, unsigned int flags), (stream, count, paramArray, flags)) \
	X(cuStreamBatchMemOp_v2_ptsz, cuStreamBatchMemOp, ORDERED, 1, (stream), (CUstream stream, unsigned int count, CUstreamBatchMemOpParams *paramArray, unsigned int flags), (stream, count, paramArray, flags)) \
	X(cuStreamWaitEvent, cuStreamWaitEvent, ORDERED, 0, (hStream), (CUstream hStream, CUevent hEvent, unsigned int Flags), (hStream, hEvent, Flags)) \
	X(cuStreamWaitEvent_ptsz, cuStreamWaitEvent, ORDERED, 1, (hStream), (CUstream hStream, CUevent hEvent, unsigned int Flags), (hStream, hEvent, Flags)) \
	X(cuStreamWaitValue32, cuStreamWaitValue32, ORDERED, 0, (stream), (CUstream stream, CUdeviceptr addr, cuuint32_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWaitValue32_ptsz, cuStreamWaitValue32, ORDERED, 1, (stream), (CUstream stream, CUdeviceptr addr, cuuint32_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWaitValue32_v2, cuStreamWaitValue32, ORDERED, 0, (stream), (CUstream stream, CUdeviceptr addr, cuuint32_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWaitValue32_v2_ptsz, cuStreamWaitValue32, ORDERED, 1, (stream), (CUstream stream, CUdeviceptr addr, cuuint32_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWaitValue64, cuStreamWaitValue64, ORDERED, 0, (stream), (CUstream stream, CUdeviceptr addr, cuuint64_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWaitValue64_ptsz, cuStreamWaitValue64, ORDERED, 1, (stream), (CUstream stream, CUdeviceptr addr, cuuint64_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWaitValue64_v2, cuStreamWaitValue64, ORDERED, 0, (stream), (CUstream stream, CUdeviceptr addr, cuuint64_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWaitValue64_v2_ptsz, cuStreamWaitValue64, ORDERED, 1, (stream), (CUstream stream, CUdeviceptr addr, cuuint64_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWriteValue32, cuStreamWriteValue32, ORDERED, 0, (stream), (CUstream stream, CUdeviceptr addr, cuuint32_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWriteValue32_ptsz, cuStreamWriteValue32, ORDERED, 1, (stream), (CUstream stream, CUdeviceptr addr, cuuint32_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWriteValue32_v2, cuStreamWriteValue32, ORDERED, 0, (stream), (CUstream stream, CUdeviceptr addr, cuuint32_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWriteValue32_v2_ptsz, cuStreamWriteValue32, ORDERED, 1, (stream), (CUstream stream, CUdeviceptr addr, cuuint32_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWriteValue64, cuStreamWriteValue64, ORDERED, 0, (stream), (CUstream stream, CUdeviceptr addr, cuuint64_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWriteValue64_ptsz, cuStreamWriteValue64, ORDERED, 1, (stream), (CUstream stream, CUdeviceptr addr, cuuint64_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWriteValue64_v2, cuStreamWriteValue64, ORDERED, 0, (stream), (CUstream stream, CUdeviceptr addr, cuuint64_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuStreamWriteValue64_v2_ptsz, cuStreamWriteValue64, ORDERED, 1, (stream), (CUstream stream, CUdeviceptr addr, cuuint64_t value, unsigned int flags), (stream, addr, value, flags)) \
	X(cuWaitExternalSemaphoresAsync, cuWaitExternalSemaphoresAsync, ORDERED, 0, (stream), (const CUexternalSemaphore *extSemArray, const CUDA_EXTERNAL_SEMAPHORE_WAIT_PARAMS *paramsArray, unsigned int numExtSems, CUstream stream), (extSemArray, paramsArray, numExtSems, stream)) \
	X(cuWaitExternalSemaphoresAsync_ptsz, cuWaitExternalSemaphoresAsync, ORDERED, 1, (stream), (const CUexternalSemaphore *extSemArray, const CUDA_EXTERNAL_SEMAPHORE_WAIT_PARAMS *paramsArray, unsigned int numExtSems, CUstream stream), (extSemArray, paramsArray, numExtSems, stream)) \
	/* device memory */                                                                         \
	X(cuMemAlloc, cuMemAlloc, ALLOC, 0, (MEMORY_POINTER, MEMORY_CURRENT_DEVICE, bytesize, *dptr, bytesize), (CUdeviceptr_v1 *dptr, unsigned int bytesize), (dptr, bytesize)) \
	X(cuMemAlloc_v2, cuMemAlloc, ALLOC, 0, (MEMORY_POINTER, MEMORY_CURRENT_DEVICE, bytesize, *dptr, bytesize), (CUdeviceptr *dptr, size_t bytesize), (dptr, bytesize)) \
	X(cuMemAllocPitch, cuMemAllocPitch, ALLOC, 0, (MEMORY_POINTER, MEMORY_CURRENT_DEVICE, memory_pitch_estimate(WidthInBytes, Height), *dptr, (uint64_t)*pPitch * Height), (CUdeviceptr_v1 *dptr, unsigned int *pPitch, unsigned int WidthInBytes, unsigned int Height, unsigned int ElementSizeBytes), (dptr, pPitch, WidthInBytes, Height, ElementSizeBytes)) \
	X(cuMemAllocPitch_v2, cuMemAllocPitch, ALLOC, 0, (MEMORY_POINTER, MEMORY_CURRENT_DEVICE, memory_pitch_estimate(WidthInBytes, Height), *dptr, (uint64_t)*pPitch * Height), (CUdeviceptr *dptr, size_t *pPitch, size_t WidthInBytes, size_t Height, unsigned int ElementSizeBytes), (dptr, pPitch, WidthInBytes, Height, ElementSizeBytes)) \
	X(cuMemAllocManaged, cuMemAllocManaged, ALLOC, 0, (MEMORY_POINTER, MEMORY_CURRENT_DEVICE, bytesize, *dptr, bytesize), (CUdeviceptr *dptr, size_t bytesize, unsigned int flags), (dptr, bytesize, flags)) \
	X(cuMemAllocAsync, cuMemAllocAsync, ALLOC, 0, (MEMORY_POINTER, MEMORY_CURRENT_DEVICE, bytesize, *dptr, bytesize), (CUdeviceptr *dptr, size_t bytesize, CUstream hStream), (dptr, bytesize, hStream)) \
	X(cuMemAllocAsync_ptsz, cuMemAllocAsync, ALLOC, 1, (MEMORY_POINTER, MEMORY_CURRENT_DEVICE, bytesize, *dptr, bytesize), (CUdeviceptr *dptr, size_t bytesize, CUstream hStream), (dptr, bytesize, hStream)) \
	X(cuMemAllocFromPoolAsync, cuMemAllocFromPoolAsync, ALLOC, 0, (MEMORY_POINTER, MEMORY_CURRENT_DEVICE, bytesize, *dptr, bytesize), (CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool, CUstream hStream), (dptr, bytesize, pool, hStream)) \
	X(cuMemAllocFromPoolAsync_ptsz, cuMemAllocFromPoolAsync, ALLOC, 1, (MEMORY_POINTER, MEMORY_CURRENT_DEVICE, bytesize, *dptr, bytesize), (CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool, CUstream hStream), (dptr, bytesize, pool, hStream)) \
	X(cuMemCreate, cuMemCreate, ALLOC, 0, (MEMORY_VMM, memory_vmm_device(prop), size, *handle, size), (CUmemGenericAllocationHandle *handle, size_t size, const CUmemAllocationProp *prop, unsigned long long flags), (handle, size, prop, flags)) \
	X(cuArrayCreate, cuArrayCreate, ALLOC, 0, (MEMORY_ARRAY, MEMORY_CURRENT_DEVICE, wrap_array_bytes(pAllocateArray), (uintptr_t)*pHandle, wrap_array_bytes(pAllocateArray)), (CUarray *pHandle, const CUDA_ARRAY_DESCRIPTOR_v1 *pAllocateArray), (pHandle, pAllocateArray)) \
	X(cuArrayCreate_v2, cuArrayCreate, ALLOC, 0, (MEMORY_ARRAY, MEMORY_CURRENT_DEVICE, wrap_array_bytes(pAllocateArray), (uintptr_t)*pHandle, wrap_array_bytes(pAllocateArray)), (CUarray *pHandle, const CUDA_ARRAY_DESCRIPTOR *pAllocateArray), (pHandle, pAllocateArray)) \
	X(cuArray3DCreate, cuArray3DCreate, ALLOC, 0, (MEMORY_ARRAY, MEMORY_CURRENT_DEVICE, wrap_array_bytes(pAllocateArray), (uintptr_t)*pHandle, wrap_array_bytes(pAllocateArray)), (CUarray *pHandle, const CUDA_ARRAY3D_DESCRIPTOR_v1 *pAllocateArray), (pHandle, pAllocateArray)) \
	X(cuArray3DCreate_v2, cuArray3DCreate, ALLOC, 0, (MEMORY_ARRAY, MEMORY_CURRENT_DEVICE, wrap_array_bytes(pAllocateArray), (uintptr_t)*pHandle, wrap_array_bytes(pAllocateArray)), (CUarray *pHandle, const CUDA_ARRAY3D_DESCRIPTOR *pAllocateArray), (pHandle, pAllocateArray)) \
	X(cuMipmappedArrayCreate, cuMipmappedArrayCreate, ALLOC, 0, (MEMORY_MIPMAP, MEMORY_CURRENT_DEVICE, wrap_mipmap_bytes(pMipmappedArrayDesc, numMipmapLevels), (uintptr_t)*pHandle, wrap_mipmap_bytes(pMipmappedArrayDesc, numMipmapLevels)), (CUmipmappedArray *pHandle, const CUDA_ARRAY3D_DESCRIPTOR *pMipmappedArrayDesc, unsigned int numMipmapLevels), (pHandle, pMipmappedArrayDesc, numMipmapLevels)) \
	X(cuMemFree, cuMemFree, FREE, 0, (MEMORY_POINTER, dptr), (CUdeviceptr_v1 dptr), (dptr))                           \
	X(cuMemFree_v2, cuMemFree, FREE, 0, (MEMORY_POINTER, dptr), (CUdeviceptr dptr), (dptr))                          \
	X(cuMemFreeAsync, cuMemFreeAsync, FREE, 0, (MEMORY_POINTER, dptr), (CUdeviceptr dptr, CUstream hStream), (dptr, hStream)) \
	X(cuMemFreeAsync_ptsz, cuMemFreeAsync, FREE, 1, (MEMORY_POINTER, dptr), (CUdeviceptr dptr, CUstream hStream), (dptr, hStream)) \
	X(cuMemRelease, cuMemRelease, FREE, 0, (MEMORY_VMM, handle), (CUmemGenericAllocationHandle handle), (handle))   \
	X(cuArrayDestroy, cuArrayDestroy, FREE, 0, (MEMORY_ARRAY, (uintptr_t)hArray), (CUarray hArray), (hArray))                   \
	X(cuMipmappedArrayDestroy, cuMipmappedArrayDestroy, FREE, 0, (MEMORY_MIPMAP, (uintptr_t)hMipmappedArray), (CUmipmappedArray hMipmappedArray), (hMipmappedArray)) \
	X(cuMemMap, cuMemMap, PASS, 0, (0), (CUdeviceptr ptr, size_t size, size_t offset, CUmemGenericAllocationHandle handle, unsigned long long flags), (ptr, size, offset, handle, flags)) \
	X(cuMemUnmap, cuMemUnmap, PASS, 0, (0), (CUdeviceptr ptr, size_t size), (ptr, size))         \
	X(cuMemPoolCreate, cuMemPoolCreate, PASS, 0, (0), (CUmemoryPool *pool, const CUmemPoolProps *poolProps), (pool, poolProps)) \
	X(cuMemPoolDestroy, cuMemPoolDestroy, PASS, 0, (0), (CUmemoryPool pool), (pool))             \
	X(cuMemPoolTrimTo, cuMemPoolTrimTo, PASS, 0, (0), (CUmemoryPool pool, size_t minBytesToKeep), (pool, minBytesToKeep)) \
	X(cuGraphAddMemAllocNode, cuGraphAddMemAllocNode, ALLOC, 0, (MEMORY_POINTER, memory_node_device(nodeParams), memory_node_bytes(nodeParams), nodeParams->dptr, nodeParams->bytesize), (CUgraphNode *phGraphNode, CUgraph hGraph, const CUgraphNode *dependencies, size_t numDependencies, CUDA_MEM_ALLOC_NODE_PARAMS *nodeParams), (phGraphNode, hGraph, dependencies, numDependencies, nodeParams)) \
	X(cuGraphAddMemFreeNode, cuGraphAddMemFreeNode, FREE, 0, (MEMORY_POINTER, dptr), (CUgraphNode *phGraphNode, CUgraph hGraph, const CUgraphNode *dependencies, size_t numDependencies, CUdeviceptr dptr), (phGraphNode, hGraph, dependencies, numDependencies, dptr)) \
	X(cuMemGetInfo, cuMemGetInfo, VIEW, 0, (views_mem_info_v1(free, total)), (unsigned int *free, unsigned int *total), (free, total)) \
	X(cuMemGetInfo_v2, cuMemGetInfo, VIEW, 0, (views_mem_info(free, total)), (size_t *free, size_t *total), (free, total)) \
	X(cuDeviceTotalMem, cuDeviceTotalMem, VIEW, 0, (views_total_mem_v1(bytes, dev)), (unsigned int *bytes, CUdevice dev), (bytes, dev)) \
	X(cuDeviceTotalMem_v2, cuDeviceTotalMem, VIEW, 0, (views_total_mem(bytes, dev)), (size_t *bytes, CUdevice dev), (bytes, dev)) \
	/* contexts */                                                                              \
	X(cuCtxCreate, cuCtxCreate, CONTEXT, 0, (pctx, dev, false), (CUcontext *pctx, unsigned int flags, CUdevice dev), (pctx, flags, dev)) \
	X(cuCtxCreate_v2, cuCtxCreate, CONTEXT, 0, (pctx, dev, false), (CUcontext *pctx, unsigned int flags, CUdevice dev), (pctx, flags, dev)) \
	X(cuCtxCreate_v3, cuCtxCreate, CONTEXT, 0, (pctx, dev, false), (CUcontext *pctx, CUexecAffinityParam *paramsArray, int numParams, unsigned int flags, CUdevice dev), (pctx, paramsArray, numParams, flags, dev)) \
	X(cuCtxCreate_v4, cuCtxCreate, CONTEXT, 0, (pctx, dev, false), (CUcontext *pctx, CUctxCreateParams *ctxCreateParams, unsigned int flags, CUdevice dev), (pctx, ctxCreateParams, flags, dev)) \
	X(cuCtxDestroy, cuCtxDestroy, CONTEXT_DESTROY, 0, (0), (CUcontext ctx), (ctx))                           \
	X(cuCtxDestroy_v2, cuCtxDestroy, CONTEXT_DESTROY, 0, (0), (CUcontext ctx), (ctx))                        \
	X(cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain, CONTEXT, 0, (pctx, dev, true), (CUcontext *pctx, CUdevice dev), (pctx, dev)) \
	X(cuDevicePrimaryCtxRelease, cuDevicePrimaryCtxRelease, CONTEXT_GONE, 0, (contexts_primary_released(dev)), (CUdevice dev), (dev))  \
	X(cuDevicePrimaryCtxRelease_v2, cuDevicePrimaryCtxRelease, CONTEXT_GONE, 0, (contexts_primary_released(dev)), (CUdevice dev), (dev)) \
	X(cuDevicePrimaryCtxReset, cuDevicePrimaryCtxReset, CONTEXT_RESET, 0, (0), (CUdevice dev), (dev))      \
	X(cuDevicePrimaryCtxReset_v2, cuDevicePrimaryCtxReset, CONTEXT_RESET, 0, (0), (CUdevice dev), (dev)) \
	/* spatial partitions (partition.c): the primary context's stand-in, and no escape */      \
	X(cuCtxSetCurrent, cuCtxSetCurrent, CUSTOM, 0, (0), (CUcontext ctx), (ctx))                   \
	X(cuCtxPushCurrent, cuCtxPushCurrent, CUSTOM, 0, (0), (CUcontext ctx), (ctx))                 \
	X(cuCtxPushCurrent_v2, cuCtxPushCurrent, CUSTOM, 0, (0), (CUcontext ctx), (ctx))              \
	X(cuGreenCtxCreate, cuGreenCtxCreate, CUSTOM, 0, (0), (CUgreenCtx *phCtx, CUdevResourceDesc desc, CUdevice dev, unsigned int flags), (phCtx, desc, dev, flags)) \
	/* where work is seen done (a latency-critical tenant's request leaves the board) and where fatal GPU errors surface (cusliced hears of a fault at once) */                   \
	X(cuCtxSynchronize, cuCtxSynchronize, SYNC, 0, (1), (void), ())                              \
	X(cuCtxSynchronize_v2, cuCtxSynchronize, SYNC, 0, (1), (CUcontext ctx), (ctx))               \
	X(cuStreamSynchronize, cuStreamSynchronize, SYNC, 0, (1), (CUstream hStream), (hStream))    \
	X(cuStreamSynchronize_ptsz, cuStreamSynchronize, SYNC, 1, (1), (CUstream hStream), (hStream)) \
	X(cuEventSynchronize, cuEventSynchronize, SYNC, 0, (1), (CUevent hEvent), (hEvent))          \
	X(cuStreamQuery, cuStreamQuery, SYNC, 0, (0), (CUstream hStream), (hStream))                  \
	X(cuStreamQuery_ptsz, cuStreamQuery, SYNC, 1, (0), (CUstream hStream), (hStream))             \
	X(cuEventQuery, cuEventQuery, SYNC, 0, (0), (CUevent hEvent), (hEvent))

/*
 * NVML, for nvidia-smi, pynvml and vLLM. Same columns; these resolve from
 * libnvidia-ml.so.1 and return nvmlReturn_t; extra = the view applied.
 */
#define SHIM_NVML_HOOKS(X)                                                                          \
	X(nvmlDeviceGetMemoryInfo, nvmlDeviceGetMemoryInfo, NVML, 0, (views_nvml_memory(device, memory)), (nvmlDevice_t device, nvmlMemory_t *memory), (device, memory)) \
	X(nvmlDeviceGetMemoryInfo_v2, nvmlDeviceGetMemoryInfo_v2, NVML, 0, (views_nvml_memory_v2(device, memory)), (nvmlDevice_t device, nvmlMemory_v2_t *memory), (device, memory))

#define SHIM_HOOKS(X) SHIM_DRIVER_HOOKS(X) SHIM_NVML_HOOKS(X)
/* clang-format on */
