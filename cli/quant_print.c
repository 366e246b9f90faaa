/* quant_print.c - what `qwen-quant plan` prints; see quant.h. */
#include "quant.h"

#include <inttypes.h>
#include <string.h>

#include "../quant/qtype.h"

static const char *const why_names[] = {
	[QW_KEPT] = "kept (never quantized)", [QW_DEFAULT] = "mix default",
	[QW_MIX] = "mix rule", [QW_RECIPE] = "recipe", [QW_OPTION] = "option",
	[QW_FALLBACK] = "fallback (row length)",
};

static double bpw(uint64_t bytes, uint64_t elems)
{
	return elems ? (double)bytes * 8.0 / (double)elems : 0.0;
}

static const char *type_name(int type)
{
	const struct qt_type *q = qt_type_get(type);

	return q ? q->name : "?";
}

static void print_tensor(FILE *f, const struct quant_job *j, size_t i)
{
	const struct wp_tensor *t = &j->plan.t[i];
	const struct quant_info *in = &j->info[i];
	char ne[96], why[64];
	int k = 0;

	for (int d = 0; d < t->n_dims; d++)
		k += snprintf(ne + k, sizeof(ne) - (size_t)k, "%s%" PRId64, d ? ", " : "{", t->ne[d]);
	snprintf(ne + k, sizeof(ne) - (size_t)k, "}");
	if (in->rule >= 0)
		snprintf(why, sizeof(why), "%s, recipe line %u", why_names[in->why],
			 j->recipe.rules[in->rule].line);
	else
		snprintf(why, sizeof(why), "%s", why_names[in->why]);
	fprintf(f, "  %-40s %-5s %-22s %12" PRIu64 " %6.2f  %-5s %s\n", t->name, type_name(t->type),
		ne, t->nbytes, bpw(t->nbytes, t->n_elem), type_name(in->src_type), why);
}

void quant_print_plan(FILE *f, const struct quant_job *j, const struct quant_opts *o)
{
	uint64_t elems = 0, bytes = 0;

	fprintf(f, "plan for %s: %s (general.file_type %" PRIu32 ")%s%s%s\n", j->in.cat.path,
		o->mix->name, j->ftype, o->recipe ? ", recipe " : "", o->recipe ? o->recipe : "",
		o->qopt.pure ? ", pure" : "");
	fprintf(f, "  %-40s %-5s %-22s %12s %6s  %-5s %s\n", "tensor", "type", "ne", "bytes", "bpw",
		"from", "why");
	for (size_t i = 0; i < j->plan.n; i++) {
		print_tensor(f, j, i);
		elems += j->plan.t[i].n_elem;
		bytes += j->plan.t[i].nbytes;
	}
	fprintf(f, "by type:\n");
	for (int ty = 0; ty < QT_COUNT; ty++) {
		uint64_t n = 0, e = 0, b = 0;

		for (size_t i = 0; i < j->plan.n; i++)
			if (j->plan.t[i].type == ty) {
				n++;
				e += j->plan.t[i].n_elem;
				b += j->plan.t[i].nbytes;
			}
		if (n)
			fprintf(f, "  %-5s %6" PRIu64 " tensors %14" PRIu64 " weights %14" PRIu64
				   " bytes %6.2f bpw\n", type_name(ty), n, e, b, bpw(b, e));
	}
	fprintf(f, "total: %zu tensors, %" PRIu64 " weights, %" PRIu64 " bytes (%.2f MiB), %.2f "
		   "bpw; input %" PRIu64 " bytes (%.2f MiB), %.2f bpw\n", j->plan.n, elems, bytes,
		(double)bytes / (1024.0 * 1024.0), bpw(bytes, elems), j->src_bytes,
		(double)j->src_bytes / (1024.0 * 1024.0), bpw(j->src_bytes, elems));
	if (j->n_fallback)
		fprintf(f, "%d of %zu tensors required fallback quantization\n", j->n_fallback,
			j->plan.n);
}
