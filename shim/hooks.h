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
 *   HOSTFN      a host function enqueued on a stream
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
