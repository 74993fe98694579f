/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Launch overhead of the shim, measured inside one process: batches of empty
 * cuLaunchKernel calls alternate between the pointer a program gets (the
 * shim's wrapper, when run under it) and the driver's own entry point, read
 * from libcuda.so.1's dynamic symbol table so that nothing interposes it.
 * Same process, context, stream and clocks for both, interleaved A B B A …,
 * so the difference of medians is the wrapper's cost and little else.
 *
 *   LD_PRELOAD=libcuslice.so ab-launch [ROUNDS] [BATCH] [MODE]
 *
 * MODE "launch" (the default) launches on the legacy stream. "alloc" times
 * cuMemAlloc + cuMemFree pairs of 1 MiB the same way, for the cost of
 * charging the quota (run it under `cuslice run --vram`). The others make a
 * blocking stream (cuStreamCreate, flags 0) through the shim first, for the
 * cost of keeping the legacy stream's order in an SM partition (run them
 * under `cuslice run --sm-groups`): "blocking" launches on that stream,
 * "legacy" on the legacy stream beside it, "handover" on each in turn, so
 * that every launch follows one on the other.
 * Prints one JSON object. Needs a GPU (exit 77 without one).
 */
#define _GNU_SOURCE
#include <cuda.h>

#include <dlfcn.h>
#include <stdbool.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char empty_ptx[] = ".version 7.0\n.target sm_52\n.address_size 64\n"
				".visible .entry empty() { ret; }\n";

struct found {
	const char *soname;
	uintptr_t base;
	char path[4096];
};

static int find_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct found *f = data;

	if (!strstr(info->dlpi_name, f->soname))
		return 0;
	f->base = info->dlpi_addr;
	snprintf(f->path, sizeof(f->path), "%s", info->dlpi_name);
	return 1;
}

/* `name` as defined by the loaded object `soname`, read from its file's
 * .dynsym: no dlsym, so no interposer can answer instead. */
static void *elf_symbol(const char *soname, const char *name)
{
	struct found f = {.soname = soname};
	struct stat st;
	void *result = NULL;

	if (!dl_iterate_phdr(find_object, &f))
		return NULL;
	int fd = open(f.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	const unsigned char *map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return NULL;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)map;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(map + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum && !result; i++) {
		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		const Elf64_Sym *syms = (const Elf64_Sym *)(map + sh[i].sh_offset);
		const char *strtab = (const char *)(map + sh[sh[i].sh_link].sh_offset);
		for (size_t j = 0; j < sh[i].sh_size / sizeof(Elf64_Sym); j++)
			if (syms[j].st_value && strcmp(strtab + syms[j].st_name, name) == 0)
				result = (void *)(f.base + syms[j].st_value);
	}
	munmap((void *)map, st.st_size);
	return result;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), compare);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef __typeof__(&cuLaunchKernel) launch_fn;
typedef __typeof__(&cuMemAlloc_v2) alloc_fn;
typedef __typeof__(&cuMemFree_v2) free_fn;

static double alloc_batch(alloc_fn alloc, free_fn release, int n)
{
	CUdeviceptr p;
	double t0 = now_ns();
	for (int i = 0; i < n; i++) {
		if (alloc(&p, 1 << 20) != CUDA_SUCCESS || release(p) != CUDA_SUCCESS)
			exit(1);
	}
	return (now_ns() - t0) / n;
}

/* `n` launches on `s`, or on `s` and the legacy stream in turn */
static double batch(launch_fn launch, CUfunction f, CUstream s, bool turns, int n,
		    __typeof__(&cuCtxSynchronize) sync)
{
	double t0 = now_ns();
	for (int i = 0; i < n; i++)
		launch(f, 1, 1, 1, 1, 1, 1, 0, turns && i % 2 ? NULL : s, NULL, NULL);
	double t1 = now_ns();
	sync();
	return (t1 - t0) / n;
}

static const char *const modes[] = {"launch", "alloc", "blocking", "legacy", "handover"};
static const char *const whats[] = {
	"cuLaunchKernel",
	"cuMemAlloc+cuMemFree of 1 MiB",
	"cuLaunchKernel on a blocking stream",
	"cuLaunchKernel on the legacy stream beside a blocking stream",
	"cuLaunchKernel on a blocking stream and the legacy stream in turn",
};

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 2000;
	int n = argc > 2 ? atoi(argv[2]) : 256;
	int mode = 0;
	while (argc > 3 && mode < 5 && strcmp(argv[3], modes[mode]) != 0)
		mode++;
	if (mode == 5) {
		fprintf(stderr,
			"ab-launch: unknown mode '%s' (launch, alloc, blocking, legacy or "
			"handover)\n",
			argv[3]);
		return 2;
	}
	bool allocs = mode == 1;
	void *h = dlopen("libcuda.so.1", RTLD_NOW);
	__typeof__(&cuGetProcAddress_v2) get = h ? dlsym(h, "cuGetProcAddress_v2") : NULL;
	CUdriverProcAddressQueryResult q;
	__typeof__(&cuInit) init;
	__typeof__(&cuDevicePrimaryCtxRetain) retain;
	__typeof__(&cuCtxSetCurrent) set_current;
	__typeof__(&cuModuleLoadData) load;
	__typeof__(&cuModuleGetFunction) function;
	__typeof__(&cuCtxSynchronize) sync;
	__typeof__(&cuStreamCreate) stream_create;
	launch_fn wrapped, bare = elf_symbol("libcuda.so", "cuLaunchKernel");
	alloc_fn alloc_wrapped, alloc_bare = elf_symbol("libcuda.so", "cuMemAlloc_v2");
	free_fn free_wrapped, free_bare = elf_symbol("libcuda.so", "cuMemFree_v2");
	CUcontext ctx;
	CUmodule module;
	CUfunction f;
	CUstream stream = NULL;

	if (!get || !bare || get("cuInit", (void **)&init, 12000, 0, &q) ||
	    get("cuDevicePrimaryCtxRetain", (void **)&retain, 12000, 0, &q) ||
	    get("cuCtxSetCurrent", (void **)&set_current, 12000, 0, &q) ||
	    get("cuModuleLoadData", (void **)&load, 12000, 0, &q) ||
	    get("cuModuleGetFunction", (void **)&function, 12000, 0, &q) ||
	    get("cuCtxSynchronize", (void **)&sync, 12000, 0, &q) ||
	    get("cuStreamCreate", (void **)&stream_create, 12000, 0, &q) ||
	    get("cuLaunchKernel", (void **)&wrapped, 12000, 0, &q) ||
	    get("cuMemAlloc", (void **)&alloc_wrapped, 12000, 0, &q) ||
	    get("cuMemFree", (void **)&free_wrapped, 12000, 0, &q) || !alloc_bare || !free_bare) {
		fprintf(stderr, "ab-launch: no usable CUDA driver\n");
		return 77;
	}
	if (init(0) || retain(&ctx, 0) || set_current(ctx) || load(&module, empty_ptx) ||
	    function(&f, module, "empty") || (mode >= 2 && stream_create(&stream, 0))) {
		fprintf(stderr, "ab-launch: no usable GPU\n");
		return 77;
	}
	CUstream on = mode == 3 ? NULL : stream;
	bool turns = mode == 4;
	double *a = calloc(rounds, sizeof(double)), *b = calloc(rounds, sizeof(double));
	double *d = calloc(rounds, sizeof(double));
	for (int i = 0; i < 50; i++) /* warm up both paths */
		batch(i % 2 ? wrapped : bare, f, on, turns, n, sync);
	for (int r = 0; r < rounds; r++) {
		bool wrapped_first = r % 2;
		for (int k = 0; k < 2; k++) {
			bool w = (k == 0) == wrapped_first;
			double t = allocs ? alloc_batch(w ? alloc_wrapped : alloc_bare,
							w ? free_wrapped : free_bare, n)
					  : batch(w ? wrapped : bare, f, on, turns, n, sync);
			*(w ? &a[r] : &b[r]) = t;
		}
		d[r] = a[r] - b[r];
	}
	double ma = median(a, rounds), mb = median(b, rounds), md = median(d, rounds);
	printf("{\"what\": \"%s\", \"under_shim\": %s, \"rounds\": %d, \"batch\": %d, "
	       "\"bare_median_ns\": %.1f, "
	       "\"wrapped_median_ns\": %.1f, \"added_ns_median_of_pairs\": %.1f, "
	       "\"added_ns_difference_of_medians\": %.1f, \"ratio\": %.5f}\n",
	       whats[mode], wrapped != bare ? "true" : "false", rounds, n, mb, ma, md, ma - mb,
	       ma / mb);
	return 0;
}
