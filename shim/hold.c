/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Holding a stream while a launch is timed.
 *
 * An event pair around a launch times the kernel only if the GPU reaches the
 * start event after the launch is queued. On a stream the GPU has caught up
 * with, it reaches it at once, and the pair also times the host submitting
 * the launch: on an H200 an empty kernel, 1.3 µs of GPU time when queued back
 * to back, reads 6-9 µs that way (a kernel of 2 µs, 5-10 µs), which charged a
 * tenant of small kernels several times the GPU time it used.
 *
 * So a timed launch first queues a wait (cuStreamWaitValue32, GEQ) on a
 * pinned host word, and writes the word once the end event is queued: the
 * GPU then reaches the start event with the launch already behind it, and
 * the pair reads the kernel's time plus its own, which is measured once (two
 * empty held pairs, the least) and subtracted. Measured on the H200: held
 * pairs read 2.7 / 4.7 / 12.8 / 52.7 µs for kernels of 1.3 / 3.3 / 11.3 /
 * 51.3 µs queued back to back, whether the stream was idle, a few µs behind
 * or far behind, and an empty pair 1.28 µs. Where the stream was busy the
 * wait is long satisfied when the GPU gets there; where it was idle the GPU
 * would have waited for the launch anyway, and the launch's completion comes
 * 3-5 µs later than unheld, on timed launches only.
 *
 * A held stream waits for this process's host thread, and a driver call may
 * block on something that waits for the GPU (another thread synchronising the
 * context under a lock the launch needs, a module loaded lazily): a watchdog
 * thread releases every hold after HOLD_MAX_NS, so the worst such a case
 * costs is a stall of that long. Launches whose module may still be loading
 * (the first of a kernel) are not held by the caller.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hold.h"

#define HOLD_MAX_NS 2000000 /* a stream is held no longer than this */
#define WORDS 4		    /* pinned words made at most, one per context lost */
#define PAIRS 2		    /* empty pairs timed for the pair's own time */

static struct {
	__typeof__(&cuStreamWaitValue32_v2) wait;
	__typeof__(&cuStreamWaitValue32_v2_ptsz) wait_ptsz;
	__typeof__(&cuMemHostAlloc) host_alloc;
	__typeof__(&cuPointerGetAttribute) pointer_attribute;
	__typeof__(&cuEventCreate) event_create;
	__typeof__(&cuEventDestroy_v2) event_destroy;
	__typeof__(&cuEventRecord) record;
	__typeof__(&cuEventRecord_ptsz) record_ptsz;
	__typeof__(&cuEventQuery) query;
	__typeof__(&cuEventElapsedTime_v2) elapsed;
} drv;

static struct {
	uint32_t *word;		/* the word held streams wait for now */
	uint32_t *words[WORDS]; /* every word made, for the watchdog */
	int nwords;
	uint32_t handed; /* the last value a stream was held for */
	bool unusable;	 /* the driver cannot hold streams: never try again */
	bool watching;	 /* the watchdog runs */
	CUevent pair[PAIRS][2];
	int pairs; /* pairs queued and not yet read */
	uint32_t pair_ns;
} hold;

/* The last value handed out; the watchdog sleeps on it. */
static uint32_t opened;
static uint64_t count_held, count_forced;

void hold_bind(void)
{
	drv.wait = (__typeof__(drv.wait))shim_driver_symbol("cuStreamWaitValue32_v2");
	drv.wait_ptsz =
		(__typeof__(drv.wait_ptsz))shim_driver_symbol("cuStreamWaitValue32_v2_ptsz");
	drv.host_alloc = (__typeof__(drv.host_alloc))shim_driver_symbol("cuMemHostAlloc");
	drv.pointer_attribute =
		(__typeof__(drv.pointer_attribute))shim_driver_symbol("cuPointerGetAttribute");
	drv.event_create = (__typeof__(drv.event_create))shim_driver_symbol("cuEventCreate");
	drv.event_destroy = (__typeof__(drv.event_destroy))shim_driver_symbol("cuEventDestroy_v2");
	drv.record = (__typeof__(drv.record))shim_driver_symbol("cuEventRecord");
	drv.record_ptsz = (__typeof__(drv.record_ptsz))shim_driver_symbol("cuEventRecord_ptsz");
	drv.query = (__typeof__(drv.query))shim_driver_symbol("cuEventQuery");
	drv.elapsed = (__typeof__(drv.elapsed))shim_driver_symbol("cuEventElapsedTime_v2");
	hold.unusable = !drv.wait || !drv.host_alloc || !drv.pointer_attribute ||
			!drv.event_create || !drv.event_destroy || !drv.record || !drv.query ||
			!drv.elapsed;
}

/* Moves `word` up to `value` (in the wait's cyclic order); true if it was below. */
static bool word_raise(uint32_t *word, uint32_t value)
{
	uint32_t cur = __atomic_load_n(word, __ATOMIC_RELAXED);

	while ((int32_t)(value - cur) > 0)
		if (__atomic_compare_exchange_n(word, &cur, value, false, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			return true;
	return false;
}

void hold_release(const struct hold *h)
{
	if (h->word)
		word_raise(h->word, h->value);
}

static void *watchdog(void *unused)
{
	uint32_t done = 0;

	(void)unused;
	for (;;) {
		uint32_t v = __atomic_load_n(&opened, __ATOMIC_ACQUIRE);
		if (v == done) {
			syscall(SYS_futex, &opened, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
			continue;
		}
		struct timespec ts = {.tv_nsec = HOLD_MAX_NS};
		nanosleep(&ts, NULL);
		int n = __atomic_load_n(&hold.nwords, __ATOMIC_ACQUIRE);
		for (int i = 0; i < n; i++)
			if (word_raise(hold.words[i], v))
				__atomic_fetch_add(&count_forced, 1, __ATOMIC_RELAXED);
		done = v;
	}
	return NULL;
}

static bool watchdog_start(void)
{
	if (!hold.watching)
		hold.watching = shim_thread_start("cuslice-hold", 64 << 10, watchdog, NULL);
	return hold.watching;
}

static bool mapped_here(uint32_t *word)
{
	CUdeviceptr at = 0;

	return drv.pointer_attribute(&at, CU_POINTER_ATTRIBUTE_DEVICE_POINTER,
				     (CUdeviceptr)(uintptr_t)word) == CUDA_SUCCESS &&
	       at == (CUdeviceptr)(uintptr_t)word;
}

/* A word the current context's streams can wait on: the one made before, if
 * it still is (it goes with the context that made it), else a new one. */
static uint32_t *word_here(void)
{
	void *p = NULL;

	if (hold.word && mapped_here(hold.word))
		return hold.word;
	if (hold.nwords == WORDS || !watchdog_start() ||
	    drv.host_alloc(&p, 64, CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP) !=
		    CUDA_SUCCESS) {
		hold.unusable = true;
		return NULL;
	}
	/* streams wait on the host address itself: unified addressing */
	if (!mapped_here(p)) {
		hold.unusable = true;
		return NULL;
	}
	hold.word = p;
	hold.words[hold.nwords] = p;
	__atomic_store_n(&hold.nwords, hold.nwords + 1, __ATOMIC_RELEASE);
	return p;
}

static bool queue_wait(struct hold *h, CUstream stream, bool ptsz, uint32_t *word)
{
	__typeof__(drv.wait) wait = ptsz && drv.wait_ptsz ? drv.wait_ptsz : drv.wait;
	uint32_t value = ++hold.handed;
	CUresult rc = wait(stream, (CUdeviceptr)(uintptr_t)word, value, CU_STREAM_WAIT_VALUE_GEQ);

	if (rc != CUDA_SUCCESS) {
		hold.unusable = rc == CUDA_ERROR_NOT_SUPPORTED;
		return false;
	}
	*h = (struct hold){.word = word, .value = value};
	__atomic_store_n(&opened, value, __ATOMIC_RELEASE);
	syscall(SYS_futex, &opened, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return true;
}

static CUresult record(CUevent e, CUstream stream, bool ptsz)
{
	return ptsz && drv.record_ptsz ? drv.record_ptsz(e, stream) : drv.record(e, stream);
}

/* Times PAIRS empty event pairs behind one hold, to be read by hold_pair_ns(). */
static void pairs_queue(CUstream stream, bool ptsz, uint32_t *word)
{
	struct hold h;
	int made = 0;

	for (; made < PAIRS; made++)
		if (drv.event_create(&hold.pair[made][0], CU_EVENT_DEFAULT) != CUDA_SUCCESS ||
		    drv.event_create(&hold.pair[made][1], CU_EVENT_DEFAULT) != CUDA_SUCCESS)
			break;
	if (made == PAIRS && queue_wait(&h, stream, ptsz, word)) {
		bool ok = true;
		for (int i = 0; i < PAIRS && ok; i++)
			ok = record(hold.pair[i][0], stream, ptsz) == CUDA_SUCCESS &&
			     record(hold.pair[i][1], stream, ptsz) == CUDA_SUCCESS;
		hold_release(&h);
		if (ok) {
			hold.pairs = PAIRS;
			return;
		}
	}
	for (int i = 0; i < PAIRS; i++)
		for (int j = 0; j < 2; j++)
			if (hold.pair[i][j])
				drv.event_destroy(hold.pair[i][j]);
	memset(hold.pair, 0, sizeof(hold.pair));
}

bool hold_stream(struct hold *h, CUstream stream, bool ptsz)
{
	h->word = NULL;
	/* a capture in another thread may forbid what making a word takes */
	if (hold.unusable || __atomic_load_n(&shim_captures_active, __ATOMIC_RELAXED))
		return false;
	uint32_t *word = word_here();
	if (!word)
		return false;
	if (!hold.pair_ns && !hold.pairs)
		pairs_queue(stream, ptsz, word);
	if (!queue_wait(h, stream, ptsz, word))
		return false;
	__atomic_fetch_add(&count_held, 1, __ATOMIC_RELAXED);
	return true;
}

uint32_t hold_pair_ns(void)
{
	if (!hold.pairs || drv.query(hold.pair[PAIRS - 1][1]) == CUDA_ERROR_NOT_READY)
		return hold.pair_ns;
	uint32_t least = 0;
	for (int i = 0; i < PAIRS; i++) {
		float ms;
		if (drv.elapsed(&ms, hold.pair[i][0], hold.pair[i][1]) == CUDA_SUCCESS) {
			uint32_t ns = (uint32_t)(ms * 1e6f);
			least = !least || ns < least ? ns : least;
		}
		drv.event_destroy(hold.pair[i][0]);
		drv.event_destroy(hold.pair[i][1]);
	}
	memset(hold.pair, 0, sizeof(hold.pair));
	hold.pairs = 0;
	hold.pair_ns = least ? least : 1; /* 1: measured, nothing to subtract */
	return hold.pair_ns;
}

void hold_stats(struct hold_stats *ret)
{
	*ret = (struct hold_stats){
		.held = __atomic_load_n(&count_held, __ATOMIC_RELAXED),
		.forced = __atomic_load_n(&count_forced, __ATOMIC_RELAXED),
		.pair_ns = hold.pair_ns,
	};
}

void hold_forget(void)
{
	bool unusable = hold.unusable;

	memset(&hold, 0, sizeof(hold));
	hold.unusable = unusable;
	opened = 0;
}
