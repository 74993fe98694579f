/* SPDX-License-Identifier: Apache-2.0 */
/* The shim's helper threads: the hold watchdog, the partition watcher. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>

#include "shim.h"

bool shim_thread_start(const char *name, size_t stack, void *(*fn)(void *), void *arg)
{
	pthread_t thread;
	pthread_attr_t attr;
	sigset_t all, old;
	bool started;

	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (stack)
		pthread_attr_setstacksize(&attr, stack);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* the application's signals are not for it */
	started = pthread_create(&thread, &attr, fn, arg) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (started)
		pthread_setname_np(thread, name);
	return started;
}
