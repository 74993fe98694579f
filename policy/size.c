/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "size.h"

static const struct unit {
	const char *name;
	unsigned shift;
} units[] = {{"", 0}, {"B", 0}, {"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}};

void policy_size_format(uint64_t bytes, char *out, size_t size)
{
	static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, size, u ? "%.1f %s" : "%.0f %s", v, names[u]);
}

/* "123" or "1.5": the integer part, the fraction digits, and where they end. */
static int parse_number(const char *s, uint64_t *ret_int, const char **ret_frac, size_t *ret_nfrac,
			const char **ret_end)
{
	uint64_t n = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*ret_frac = p;
	*ret_nfrac = 0;
	if (*p == '.') {
		*ret_frac = ++p;
		while (isdigit((unsigned char)*p))
			p++;
		*ret_nfrac = (size_t)(p - *ret_frac);
		if (*ret_nfrac == 0)
			return -EINVAL;
	}
	*ret_int = n;
	*ret_end = p;
	return 0;
}

/* value * 2^shift, with up to 9 fraction digits, rounded down to a byte. */
static int scale(uint64_t whole, const char *frac, size_t nfrac, unsigned shift, uint64_t *ret)
{
	if (whole > (UINT64_MAX >> shift)) /* shift is at most 40 */
		return -ERANGE;
	uint64_t bytes = whole << shift;
	uint64_t num = 0, den = 1;
	for (size_t i = 0; i < nfrac && i < 9; i++) {
		num = num * 10 + (uint64_t)(frac[i] - '0');
		den *= 10;
	}
	bytes += (uint64_t)(((unsigned __int128)num << shift) / den);
	*ret = bytes;
	return 0;
}

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int r,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

/* "50%" or "12.5%" of the device, to hundredths of a percent. */
static int parse_percent(const char *text, uint64_t whole, const char *frac, size_t nfrac,
			 uint64_t device_total, uint64_t *ret, char *err, size_t errlen)
{
	uint64_t hundredths = whole > 100 ? 10001 : whole * 100;

	for (size_t i = 0; i < 2 && i < nfrac; i++)
		hundredths += (uint64_t)(frac[i] - '0') * (i == 0 ? 10 : 1);
	if (hundredths > 10000)
		return fail(err, errlen, -EINVAL, "\"%s\": a percentage is at most 100%%", text);
	*ret = (uint64_t)((unsigned __int128)device_total * hundredths / 10000);
	return 0;
}

int policy_size_parse(const char *text, uint64_t device_total, uint64_t *ret_bytes, char *err,
		      size_t errlen)
{
	uint64_t whole, bytes = 0;
	const char *frac, *unit;
	size_t nfrac;
	int r;

	if (!text || !*text)
		return fail(err, errlen, -EINVAL, "\"\": empty size; %s", POLICY_SIZE_FORMS);
	r = parse_number(text, &whole, &frac, &nfrac, &unit);
	if (r == -ERANGE)
		return fail(err, errlen, -ERANGE, "\"%s\": too large; %s", text, POLICY_SIZE_FORMS);
	if (r < 0 || *unit == '.' || isdigit((unsigned char)*unit))
		return fail(err, errlen, -EINVAL, "\"%s\": not a number; %s", text,
			    POLICY_SIZE_FORMS);
	if (strcmp(unit, "%") == 0) {
		r = parse_percent(text, whole, frac, nfrac, device_total, &bytes, err, errlen);
		if (r < 0)
			return r;
	} else {
		const struct unit *u = NULL;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(unit, units[i].name) == 0)
				u = &units[i];
		if (!u)
			return fail(err, errlen, -EINVAL, "\"%s\": unknown unit \"%s\"; %s", text,
				    unit, POLICY_SIZE_FORMS);
		if (u->shift == 0 && nfrac)
			return fail(err, errlen, -EINVAL,
				    "\"%s\": a number of bytes has no fraction; %s", text,
				    POLICY_SIZE_FORMS);
		if (scale(whole, frac, nfrac, u->shift, &bytes) < 0)
			return fail(err, errlen, -ERANGE, "\"%s\": too large; %s", text,
				    POLICY_SIZE_FORMS);
	}
	if (bytes == 0)
		return fail(err, errlen, -EINVAL, "\"%s\": a quota must be more than 0 bytes; %s",
			    text, POLICY_SIZE_FORMS);
	if (device_total && bytes > device_total) {
		char have[32];
		policy_size_format(device_total, have, sizeof(have));
		return fail(err, errlen, -ERANGE, "\"%s\": larger than the device, which has %s",
			    text, have);
	}
	*ret_bytes = bytes;
	return 0;
}

static int parse_list(const char *text, const uint64_t *totals, uint32_t ndevices,
		      struct policy_vram *v, char *err, size_t errlen)
{
	char buf[1024];
	char *save = NULL;

	if (strlen(text) >= sizeof(buf))
		return fail(err, errlen, -EINVAL, "\"%.64s...\": too long", text);
	strcpy(buf, text);
	v->per_device = true;
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '='), *end;
		if (!eq)
			return fail(err, errlen, -EINVAL,
				    "\"%s\": mixes a plain size with DEVICE=SIZE entries; write "
				    "either one SIZE or a list such as 0=20GiB,1=10GiB",
				    text);
		*eq = '\0';
		errno = 0;
		unsigned long dev = strtoul(item, &end, 10);
		if (!*item || *end || errno || !isdigit((unsigned char)*item))
			return fail(err, errlen, -EINVAL,
				    "\"%s\": \"%s\" is not a device index; write DEVICE=SIZE, e.g. "
				    "0=20GiB",
				    text, item);
		if (dev >= ndevices)
			return fail(err, errlen, -ENODEV,
				    "\"%s\": there is no device %lu; devices are 0 to %u", text,
				    dev, ndevices - 1);
		if (v->bytes[dev])
			return fail(err, errlen, -EINVAL, "\"%s\": device %s is given twice", text,
				    item);
		int r = policy_size_parse(eq + 1, totals[dev], &v->bytes[dev], err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

int policy_vram_parse(const char *text, const uint64_t *device_totals, uint32_t ndevices,
		      struct policy_vram *ret, char *err, size_t errlen)
{
	struct policy_vram v = {.ndevices = ndevices};
	int r;

	if (ndevices == 0 || ndevices > CUSLICE_MAX_DEVICES)
		return fail(err, errlen, -ENODEV, "\"%s\": no usable device", text ? text : "");
	if (text && strchr(text, '=')) {
		r = parse_list(text, device_totals, ndevices, &v, err, errlen);
	} else {
		r = 0;
		for (uint32_t i = 0; i < ndevices && r == 0; i++)
			r = policy_size_parse(text, device_totals[i], &v.bytes[i], err, errlen);
	}
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}
