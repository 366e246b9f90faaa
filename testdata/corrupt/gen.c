/* gen.c - writes every corrupt case and manifest.tsv; see corrupt.h.
 * usage: corrupt-gen OUTDIR */
#include "corrupt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* each table with the tool its cases run through (tests/cli/corrupt.sh) */
static const struct {
	const struct cc_table *table;
	const char *tool;      /* "qwen-inspect": TOOL PATH; "qwen-verify-base": qwen-verify
				* compare --base PATH on the qwen3 fixture; "qwen-quant-imatrix":
				* qwen-quant --imatrix PATH on qwen3_256; others: TOOL
				* PATH -o OUT.gguf */
} tables[] = {
	{ &cc_st_cases, "qwen-inspect" },     { &cc_index_cases, "qwen-inspect" },
	{ &cc_gguf_cases, "qwen-inspect" },   { &cc_config_cases, "qwen-inspect" },
	{ &cc_model_cases, "qwen-inspect" },  { &cc_tok_cases, "qwen-convert" },
	{ &cc_split_cases, "qwen-inspect" },  { &cc_config_writer_cases, "qwen-convert" },
	{ &cc_kb_cases, "qwen-verify-base" },  { &cc_im_cases, "qwen-quant-imatrix" },
	{ &cc_pt_cases, "qwen-inspect" },
};

int main(int argc, char **argv)
{
	char path[4096], mpath[4096];
	FILE *man;
	size_t total = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: corrupt-gen OUTDIR\n");
		return 2;
	}
	if (cc_mkdir(argv[1])) {
		fprintf(stderr, "corrupt-gen: cannot create %s\n", argv[1]);
		return 1;
	}
	snprintf(mpath, sizeof(mpath), "%s/manifest.tsv", argv[1]);
	man = fopen(mpath, "w");
	if (!man) {
		fprintf(stderr, "corrupt-gen: cannot write %s\n", mpath);
		return 1;
	}
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (size_t i = 0; i < tables[t].table->n; i++) {
			const struct cc_case *c = &tables[t].table->cases[i];
			snprintf(path, sizeof(path), "%s/%s%s", argv[1], c->name, c->ext);
			if (c->make(path)) {
				fprintf(stderr, "corrupt-gen: case %s: cannot write %s\n", c->name, path);
				fclose(man);
				return 1;
			}
			fprintf(man, "%s\t%s\t%d\t%s\t%s\n", c->name, path, c->exit_code,
				c->fragment, tables[t].tool);
			total++;
		}
	}
	if (fclose(man)) {
		fprintf(stderr, "corrupt-gen: cannot write %s\n", mpath);
		return 1;
	}
	printf("corrupt-gen: %zu cases in %s\n", total, argv[1]);
	return 0;
}
