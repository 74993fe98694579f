/* SPDX-License-Identifier: Apache-2.0 */
/* The generated wrappers and the hook table, both from hooks.h. */
#include "wrap.h"

#define X(sym, base, kind, ptsz, extra, params, args) WRAP_##kind(sym, ptsz, extra, params, args)
SHIM_HOOKS(X)
#undef X

/* clang-format off */
const struct shim_hook_info shim_hooks[HOOK_COUNT] = {
#define X(sym, base_, kind_, ptsz_, ...)                                                            \
	[HOOK_##sym] = {                                                                            \
		.name = #sym,                                                                       \
		.base = #base_,                                                                     \
		.wrapper = (void *)sym,                                                             \
		.kind = KIND_##kind_,                                                               \
		.lib = KIND_##kind_ == KIND_NVML ? LIB_NVML : LIB_DRIVER,                           \
		.ptsz = ptsz_,                                                                      \
	},
	SHIM_HOOKS(X)
#undef X
};
/* clang-format on */

void *shim_real[HOOK_COUNT];
unsigned shim_detours;

void wrap_failed(enum shim_hook id, CUresult rc)
{
	stats_failed(id);
	if (partition_fatal(rc))
		partition_fault(rc);
}

static size_t format_bytes(CUarray_format format)
{
	switch (format) {
	case CU_AD_FORMAT_UNSIGNED_INT8:
	case CU_AD_FORMAT_SIGNED_INT8:
		return 1;
	case CU_AD_FORMAT_UNSIGNED_INT16:
	case CU_AD_FORMAT_SIGNED_INT16:
	case CU_AD_FORMAT_HALF:
		return 2;
	case CU_AD_FORMAT_UNSIGNED_INT32:
	case CU_AD_FORMAT_SIGNED_INT32:
	case CU_AD_FORMAT_FLOAT:
		return 4;
	default:
		/* Block-compressed and planar formats: an upper bound until the
		 * footprint is read from cuArrayGetMemoryRequirements. */
		return 4;
	}
}

size_t wrap_array_dims(size_t width, size_t height, size_t depth, CUarray_format format,
		       unsigned channels)
{
	return width * (height ? height : 1) * (depth ? depth : 1) * format_bytes(format) *
	       (channels ? channels : 1);
}

size_t wrap_mipmap_bytes(const CUDA_ARRAY3D_DESCRIPTOR *desc, unsigned levels)
{
	if (!desc)
		return 0;
	size_t total = 0, w = desc->Width, h = desc->Height, d = desc->Depth;

	for (unsigned i = 0; i < levels && w; i++) {
		total += wrap_array_dims(w, h, d, desc->Format, desc->NumChannels);
		w = w > 1 ? w / 2 : 1;
		h = h > 1 ? h / 2 : h;
		d = d > 1 ? d / 2 : d;
	}
	return total;
}
