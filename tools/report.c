/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cuslice report --html FILE: a self-contained page (no outside resources)
 * with each tenant's share of GPU time and VRAM held over the last minutes,
 * from the samples cusliced keeps (one a second). The data goes in as JSON,
 * drawn by a small script as SVG; a table gives the same figures as text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "admin.h"
#include "policy/size.h"
#include "report.h"

static const char report_usage[] =
	"Usage: cuslice report --html FILE [--minutes N] [--socket PATH]\n"
	"\n"
	"Write a self-contained HTML page with each tenant's share of GPU time and VRAM\n"
	"held over the last N minutes (default 10, the most cusliced keeps), one sample\n"
	"a second, plotted and as a table.\n"
	"\n"
	"Options:\n"
	"      --html FILE     where to write the page\n"
	"      --minutes N     how far back, 1 to 10 (default 10)\n"
	"      --socket PATH   the admin socket (default $CUSLICE_ADMIN_SOCKET, else\n"
	"                      /run/cuslice/admin.sock)\n"
	"  -h, --help          show this help\n";

static const char page_head[] =
	"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<title>cuslice report</title>\n<style>\n"
	"body{font:14px system-ui,sans-serif;margin:2em;color:#222}\n"
	"svg{width:100%;max-width:900px;height:260px;border:1px solid #ccc;background:#fafafa}\n"
	"polyline{fill:none;stroke-width:1.5}\n"
	"#legend{list-style:none;padding:0}#legend li{display:inline-block;margin-right:1.5em}\n"
	"table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:right}\n"
	"td:first-child,th:first-child{text-align:left}\n</style></head><body>\n";

/* The script draws one polyline per tenant and chart, and the legend. */
static const char page_script[] =
	"<script>\n"
	"const data = JSON.parse(document.getElementById('data').textContent);\n"
	"const colors = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2',"
	"'#7f7f7f','#bcbd22','#17becf'];\n"
	"const all = data.tenants.flatMap(t => t.samples.map(s => s[0]));\n"
	"const t0 = Math.min(...all), t1 = Math.max(...all, t0 + 1);\n"
	"function label(svg, x, y, text) {\n"
	"  const t = document.createElementNS('http://www.w3.org/2000/svg', 'text');\n"
	"  t.setAttribute('x', x); t.setAttribute('y', y); t.setAttribute('font-size', 11);\n"
	"  t.setAttribute('fill', '#666'); t.textContent = text; svg.appendChild(t);\n"
	"}\n"
	"function draw(id, series, top, unit) {\n"
	"  const svg = document.getElementById(id), W = 900, H = 260;\n"
	"  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);\n"
	"  label(svg, 8, 16, unit(top)); label(svg, 8, H - 8, unit(0));\n"
	"  label(svg, W - 150, H - 8, `${Math.round((t1 - t0) / 1000)} s shown`);\n"
	"  series.forEach((points, i) => {\n"
	"    const p = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');\n"
	"    p.setAttribute('stroke', colors[i % colors.length]);\n"
	"    p.setAttribute('data-tenant', data.tenants[i].tenant);\n"
	"    p.setAttribute('points', points.map(([t, v]) =>\n"
	"      `${((t - t0) / (t1 - t0) * (W - 10) + 5).toFixed(1)},`+\n"
	"      `${(H - 5 - v / top * (H - 10)).toFixed(1)}`).join(' '));\n"
	"    svg.appendChild(p);\n"
	"  });\n"
	"}\n"
	"const share = data.tenants.map(t => t.samples.slice(1).map((s, k) =>\n"
	"  [s[0], Math.max(0, (s[2] - t.samples[k][2]) / ((s[0] - t.samples[k][0]) * 1e6 || "
	"1))]));\n"
	"const vram = data.tenants.map(t => t.samples.map(s => [s[0], s[1]]));\n"
	"const bytes = v => v >= 2 ** 30 ? `${(v / 2 ** 30).toFixed(1)} GiB` : `${(v / 2 ** "
	"20).toFixed(0)} MiB`;\n"
	"draw('share', share, 1, v => `${Math.round(v * 100)} %`);\n"
	"draw('vram', vram, Math.max(2 ** 20, ...vram.flat().map(p => p[1])), bytes);\n"
	"const legend = document.getElementById('legend');\n"
	"data.tenants.forEach((t, i) => {\n"
	"  const li = document.createElement('li');\n"
	"  li.className = 'tenant';\n"
	"  li.style.color = colors[i % colors.length];\n"
	"  li.textContent = t.tenant;\n"
	"  legend.appendChild(li);\n"
	"});\n"
	"</script>\n</body></html>\n";

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static int64_t cell(json_object *row, int k)
{
	return json_object_get_int64(json_object_array_get_idx(row, (size_t)k));
}

static void table(FILE *f, json_object *tenants)
{
	fputs("<h2>Figures</h2>\n<table><tr><th>tenant</th><th>VRAM held now</th>"
	      "<th>GPU time admitted</th><th>share of the time</th><th>launches</th></tr>\n",
	      f);
	for (size_t i = 0; i < json_object_array_length(tenants); i++) {
		json_object *t = json_object_array_get_idx(tenants, i), *name, *samples;
		json_object_object_get_ex(t, "tenant", &name);
		json_object_object_get_ex(t, "samples", &samples);
		size_t n = json_object_array_length(samples);
		char vram[32] = "-";
		double gpu = 0, span = 0;
		int64_t launches = 0;
		if (n) {
			json_object *first = json_object_array_get_idx(samples, 0);
			json_object *last = json_object_array_get_idx(samples, n - 1);
			policy_size_format((uint64_t)cell(last, 1), vram, sizeof(vram));
			gpu = (double)(cell(last, 2) - cell(first, 2)) / 1e9;
			span = (double)(cell(last, 0) - cell(first, 0)) / 1e3;
			launches = cell(last, 3) - cell(first, 3);
		}
		fputs("<tr><td>", f);
		put_escaped(f, json_object_get_string(name));
		fprintf(f, "</td><td>%s</td><td>%.2f s</td><td>%.1f %%</td><td>%lld</td></tr>\n",
			vram, gpu, span > 0 ? 100 * gpu / span : 0, (long long)launches);
	}
	fputs("</table>\n", f);
}

/* JSON inside <script>: "</" would end the element. */
static void put_json(FILE *f, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	for (; *s; s++) {
		if (s[0] == '<' && s[1] == '/')
			fputs("<\\", f);
		else
			fputc(*s, f);
	}
}

static int write_page(const char *path, json_object *reply, int minutes)
{
	json_object *tenants;
	char tmp[4096], when[64];
	time_t now = time(NULL);

	json_object_object_get_ex(reply, "tenants", &tenants);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -errno;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime(&now));
	fputs(page_head, f);
	fprintf(f,
		"<h1>cuslice report</h1>\n<p>%zu tenant%s, the last %d minute%s up to %s; "
		"one sample a second.</p>\n",
		json_object_array_length(tenants),
		json_object_array_length(tenants) == 1 ? "" : "s", minutes, minutes == 1 ? "" : "s",
		when);
	fputs("<ul id=\"legend\"></ul>\n<h2>Share of GPU time</h2>\n<svg id=\"share\"></svg>\n"
	      "<h2>VRAM held</h2>\n<svg id=\"vram\"></svg>\n",
	      f);
	table(f, tenants);
	fputs("<script id=\"data\" type=\"application/json\">", f);
	put_json(f, reply);
	fputs("</script>\n", f);
	fputs(page_script, f);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		int e = -errno;
		remove(tmp);
		return e;
	}
	return 0;
}

int cuslice_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"html", required_argument, NULL, 'H'},
		{"minutes", required_argument, NULL, 'm'},
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *socket_path = admin_socket_default(), *html = NULL;
	long minutes = 10;
	char *end;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			html = optarg;
			break;
		case 'm':
			minutes = strtol(optarg, &end, 10);
			if (*end || minutes < 1 || minutes > 10) {
				fprintf(stderr,
					"cuslice report: --minutes \"%s\": give 1 to 10 (cusliced "
					"keeps "
					"ten minutes)\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'h':
			fputs(report_usage, stdout);
			return 0;
		default:
			fprintf(stderr, "cuslice report: %s \"%s\"; see cuslice report --help\n",
				c == ':' ? "missing value for" : "unknown option",
				argv[optind - 1]);
			return 2;
		}
	}
	if (!html) {
		fprintf(stderr,
			"cuslice report: give the page to write: cuslice report --html FILE\n");
		return 2;
	}
	json_object *req = json_object_new_object(), *ok;
	json_object_object_add(req, "op", json_object_new_string("history"));
	json_object_object_add(req, "minutes", json_object_new_int((int)minutes));
	json_object *reply = admin_ask(socket_path, req);
	json_object_put(req);
	if (!reply || !json_object_object_get_ex(reply, "ok", &ok) ||
	    !json_object_get_boolean(ok)) {
		json_object_put(reply);
		return 1;
	}
	int r = write_page(html, reply, (int)minutes);
	json_object_put(reply);
	if (r < 0) {
		fprintf(stderr, "cuslice report: cannot write %s: %s\n", html, strerror(-r));
		return 1;
	}
	fprintf(stderr, "cuslice report: wrote %s\n", html);
	return 0;
}
