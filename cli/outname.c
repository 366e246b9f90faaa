/* outname.c - default output names and -o templates, as llama.cpp names its
 * files; see common.h.
 *
 * The name follows gguf-py's naming_convention: the basename (else the
 * model name, else "ggml-model") with spaces and '/' made '-', then
 * "-<size label>", "-<finetune>", "-<version>" when present and "-<TYPE>" in
 * upper case, ".gguf" appended; the file goes beside the input (into a model
 * directory, or beside an input file) as llama.cpp's converter puts it.
 * Templates are fill_templated_filename's: {ftype} and {outtype} become the
 * type in lower case, {FTYPE} and {OUTTYPE} in upper case.
 */
#include "common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../formats/base/path.h"
#include "../formats/base/strbuf.h"
#include "../formats/container/catalog.h"
#include "../formats/container/gguf.h"
#include "../formats/plan/plan.h"

static const char *const name_keys[CLI_NAME_N] = {
	[CLI_NAME_NAME] = "general.name", [CLI_NAME_BASENAME] = "general.basename",
	[CLI_NAME_SIZE] = "general.size_label", [CLI_NAME_FINETUNE] = "general.finetune",
	[CLI_NAME_VERSION] = "general.version",
};

void cli_name_parts_meta(const struct wp_meta *md, const char *parts[CLI_NAME_N])
{
	for (int i = 0; i < CLI_NAME_N; i++) {
		const struct wp_kv *kv = md ? wp_meta_find(md, name_keys[i]) : NULL;
		parts[i] = kv && kv->kind == WP_KV_STR ? kv->str : NULL;
	}
}

void cli_name_parts_gguf(const struct gf_file *f, const char *parts[CLI_NAME_N])
{
	for (int i = 0; i < CLI_NAME_N; i++) {
		int64_t k = gf_find_key(f, name_keys[i]);
		parts[i] = k >= 0 && gf_kv_type(f, k) == GF_STRING ? gf_kv_str(f, k, NULL) : NULL;
	}
}

/* s with spaces (and '/' when slash) made '-', surrounding blanks dropped */
static void put_part(struct qk_sb *b, const char *s, bool slash, bool upper)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	for (size_t i = 0; i < n; i++) {
		char ch = s[i] == ' ' || (slash && s[i] == '/') ? '-' : s[i];
		if (upper)
			ch = (char)toupper((unsigned char)ch);
		qk_sb_putn(b, &ch, 1);
	}
}

char *cli_default_output(const char *dir, const char *const parts[CLI_NAME_N],
			 const char *type)
{
	struct qk_sb b = { 0 };
	const char *base = parts[CLI_NAME_BASENAME] ? parts[CLI_NAME_BASENAME]
						    : parts[CLI_NAME_NAME];
	char *path;

	put_part(&b, base ? base : "ggml-model", true, false);
	for (int i = CLI_NAME_SIZE; i <= CLI_NAME_VERSION; i++)
		if (parts[i]) {
			qk_sb_puts(&b, "-");
			put_part(&b, parts[i], i == CLI_NAME_SIZE, false);
		}
	qk_sb_puts(&b, "-");
	put_part(&b, type, false, true);
	qk_sb_puts(&b, ".gguf");
	if (b.oom) {
		qk_sb_free(&b);
		return NULL;
	}
	path = qk_path_join(dir, b.s);
	qk_sb_free(&b);
	return path;
}

char *cli_fill_template(const char *out, const char *type)
{
	static const struct {
		const char *key;
		bool upper;
	} keys[] = { { "{ftype}", false }, { "{outtype}", false },
		     { "{FTYPE}", true }, { "{OUTTYPE}", true } };
	struct qk_sb b = { 0 };

	for (const char *p = out; *p;) {
		size_t k = 0, n = sizeof(keys) / sizeof(keys[0]);
		while (k < n && strncmp(p, keys[k].key, strlen(keys[k].key)) != 0)
			k++;
		if (k < n) {
			for (const char *t = type; *t; t++) {
				char ch = keys[k].upper ? (char)toupper((unsigned char)*t)
							: (char)tolower((unsigned char)*t);
				qk_sb_putn(&b, &ch, 1);
			}
			p += strlen(keys[k].key);
		} else {
			qk_sb_putn(&b, p++, 1);
		}
	}
	if (b.oom || !b.s) {
		qk_sb_free(&b);
		return NULL;
	}
	return b.s;
}

int cli_output_name(const char *out, const struct qk_catalog *cat,
		    const char *const parts[CLI_NAME_N], const char *type, char **owned,
		    qk_err *err)
{
	const char *slash;
	char *dir;

	struct stat st;

	*owned = NULL;
	if (out && *out && stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* an existing directory: the default name inside it, as
		 * convert_hf_to_gguf.py does with --outfile DIR */
		*owned = cli_default_output(out, parts, type);
	} else if (out && !strchr(out, '{')) {
		return QK_OK;
	} else if (out) {
		*owned = cli_fill_template(out, type);
	} else {
		if (cat->dir)
			dir = strdup(cat->dir);
		else if ((slash = strrchr(cat->path, '/')))
			dir = strndup(cat->path, (size_t)(slash - cat->path) + (slash == cat->path));
		else
			dir = strdup(".");
		*owned = dir ? cli_default_output(dir, parts, type) : NULL;
		free(dir);
	}
	if (!*owned)
		return qk_err_set(err, QK_E_NOMEM, "out of memory naming the output");
	return QK_OK;
}
