/* plan_card.c - authorship of a model for its GGUF keys: the README.md front
 * matter (the Hugging Face model card), config.json "_name_or_path", the
 * directory name and --name, applied in the order of llama.cpp's
 * Metadata.apply_metadata_heuristic and prepare_metadata (a field once set
 * is kept); see plan_priv.h. The id heuristics are in plan_names.c. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <yaml.h>

#include "../base/io.h"
#include "../base/json.h"
#include "../base/path.h"
#include "plan_priv.h"

#define CARD_MAX_BYTES (16u << 20)

/* ---- the front matter ---- */

struct card {
	bool ok;
	yaml_document_t doc;
};

/* the YAML between a first line "---" and the next line "---", tabs as two
 * spaces (what llama.cpp feeds to yaml.safe_load); NULL if there is none */
static char *front_matter(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *start;
	char *out, *o;
	size_t n = 0;

	if (len < 3 || strncmp(p, "---", 3) != 0 ||
	    !(p[3] == '\n' || (p[3] == '\r' && len > 4 && p[4] == '\n') || len == 3))
		return NULL;
	p = memchr(p, '\n', len);
	p = p ? p + 1 : end;
	start = p;
	while (p < end) { /* find the closing line */
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);

		if (ll && p[ll - 1] == '\r')
			ll--;
		if (ll == 3 && strncmp(p, "---", 3) == 0)
			break;
		p = nl ? nl + 1 : end;
	}
	for (const char *q = start; q < p; q++)
		n += *q == '\t' ? 2 : 1;
	if (!(out = malloc(n + 2)))
		return NULL;
	o = out;
	for (const char *q = start; q < p; q++) {
		if (*q == '\t') {
			*o++ = ' ';
			*o++ = ' ';
		} else if (*q != '\r') {
			*o++ = *q;
		}
	}
	*o++ = '\n';
	*o = '\0';
	return out;
}

static void card_read(struct card *c, const char *path, char *note, size_t note_size)
{
	char *text = NULL, *yml;
	size_t len;
	yaml_parser_t parser;
	yaml_node_t *root;

	if (qk_read_file(path, CARD_MAX_BYTES, &text, &len, NULL))
		return;
	yml = front_matter(text, len);
	free(text);
	if (!yml)
		return;
	if (!yaml_parser_initialize(&parser)) {
		free(yml);
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yml, strlen(yml));
	if (!yaml_parser_load(&parser, &c->doc)) {
		snprintf(note, note_size, "%.120s: model card front matter ignored: %.80s at line %zu",
			 path, parser.problem ? parser.problem : "not YAML",
			 (size_t)parser.problem_mark.line + 2);
		yaml_parser_delete(&parser);
		free(yml);
		return;
	}
	yaml_parser_delete(&parser);
	free(yml);
	root = yaml_document_get_root_node(&c->doc);
	if (!root) {
		yaml_document_delete(&c->doc);
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		snprintf(note, note_size, "%.120s: model card front matter ignored: not a mapping", path);
		yaml_document_delete(&c->doc);
		return;
	}
	c->ok = true;
}

/* DIR/README.md, when there is one */
static void card_load(struct card *c, const char *dir, char *note, size_t note_size)
{
	char *path = dir ? qk_path_join(dir, "README.md") : NULL;

	memset(c, 0, sizeof(*c));
	if (path)
		card_read(c, path, note, note_size);
	free(path);
}

static void card_free(struct card *c)
{
	if (c->ok)
		yaml_document_delete(&c->doc);
	c->ok = false;
}

static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (!n)
		return true;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp((const char *)n->data.scalar.value, nulls[i]) == 0)
			return true;
	return false;
}

/* a mapping's value for `key` (NULL if absent); *present says whether the
 * key is there at all (with a null value too) */
static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key, bool *present)
{
	if (present)
		*present = false;
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(d, pr->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0) {
			yaml_node_t *v = yaml_document_get_node(d, pr->value);

			if (present)
				*present = true;
			return is_null(v) ? NULL : v;
		}
	}
	return NULL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE && !is_null(n) ? (const char *)n->data.scalar.value
							      : NULL;
}

/* ---- setting fields ---- */

static int set(char **f, const char *v, qk_err *err)
{
	if (*f || !v)
		return QK_OK;
	if (!(*f = strdup(v)))
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	return QK_OK;
}

static int set_title(char **f, const char *v, qk_err *err)
{
	if (*f || !v)
		return QK_OK;
	if (!(*f = wp_id_to_title(v)))
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	return QK_OK;
}

static int push(char ***arr, size_t *n, const char *v, qk_err *err)
{
	char **na = realloc(*arr, (*n + 1) * sizeof(**arr));

	if (!na)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	*arr = na;
	if (!(na[*n] = strdup(v)))
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	(*n)++;
	return QK_OK;
}

/* model card key -> field; the first set wins (use_model_card_metadata) */
static const struct {
	int field;
	const char *key;
} card_fields[] = {
	{ WP_A_NAME, "name" }, { WP_A_AUTHOR, "author" }, { WP_A_VERSION, "version" },
	{ WP_A_ORGANIZATION, "organization" }, { WP_A_DESCRIPTION, "description" },
	{ WP_A_FINETUNE, "finetune" }, { WP_A_BASENAME, "basename" },
	{ WP_A_SIZE_LABEL, "size_label" }, { WP_A_SOURCE_URL, "url" }, { WP_A_SOURCE_DOI, "doi" },
	{ WP_A_SOURCE_UUID, "uuid" }, { WP_A_SOURCE_REPO_URL, "repo_url" },
	{ WP_A_NAME, "model_name" }, { WP_A_AUTHOR, "model_author" },
	{ WP_A_VERSION, "model_version" }, { WP_A_ORGANIZATION, "model_organization" },
	{ WP_A_DESCRIPTION, "model_description" }, { WP_A_FINETUNE, "model_finetune" },
	{ WP_A_BASENAME, "model_basename" }, { WP_A_SIZE_LABEL, "model_size_label" },
	{ WP_A_SOURCE_URL, "model_url" }, { WP_A_SOURCE_DOI, "model_doi" },
	{ WP_A_SOURCE_UUID, "model_uuid" }, { WP_A_SOURCE_REPO_URL, "model_repo_url" },
	{ WP_A_AUTHOR, "model_creator" }, { WP_A_BASENAME, "model_type" },
};

/* what a model id says about one base model or dataset */
static int source_from_id(struct wp_source *s, const char *id, uint64_t total, qk_err *err)
{
	struct wp_id_parts ip;
	const char *hf = NULL;
	int rc;

	if (strncmp(id, "http://", 7) == 0 || strncmp(id, "https://", 8) == 0 ||
	    strncmp(id, "ssh://", 6) == 0) {
		const char *rest = id + (id[4] == 's' ? 8 : 7);
		const char *sl;

		if ((rc = set(&s->f[WP_S_REPO_URL], id, err)))
			return rc;
		/* https?://huggingface.co/([^/]+/[^/]+)$ */
		if (id[0] == 'h' && strncmp(rest, "huggingface.co/", 15) == 0 &&
		    (sl = strchr(rest + 15, '/')) && sl > rest + 15 && sl[1] && !strchr(sl + 1, '/'))
			hf = rest + 15;
		if (!hf)
			return QK_OK;
	}
	if ((rc = wp_id_parts(hf ? hf : id, total, &ip, err)))
		return rc;
	rc = set_title(&s->f[WP_S_NAME], ip.full_name, err);
	if (!rc)
		rc = set_title(&s->f[WP_S_ORGANIZATION], ip.org, err);
	if (!rc)
		rc = set(&s->f[WP_S_VERSION], ip.version, err);
	if (!rc && !hf && ip.org && ip.full_name) {
		char url[1024];

		snprintf(url, sizeof(url), "https://huggingface.co/%s/%s", ip.org, ip.full_name);
		rc = set(&s->f[WP_S_REPO_URL], url, err);
	}
	wp_id_parts_free(&ip);
	return rc;
}

static const char *const source_keys[WP_S_COUNT] = {
	"name", "author", "version", "organization", "description", "url", "doi", "uuid",
	"repo_url",
};

/* base models or datasets: a string, a list of strings or of mappings */
static int card_sources(struct card *c, const char *const keys[3], bool *has,
			struct wp_source **out, size_t *n, uint64_t total, qk_err *err)
{
	yaml_node_t *root = yaml_document_get_root_node(&c->doc), *v = NULL;
	yaml_node_item_t *items = NULL, one = 0;
	size_t n_items = 0;
	int rc = QK_OK;

	for (int i = 0; i < 3 && !*has; i++)
		v = map_get(&c->doc, root, keys[i], has);
	if (!v)
		return QK_OK;
	if (v->type == YAML_SEQUENCE_NODE) {
		items = v->data.sequence.items.start;
		n_items = (size_t)(v->data.sequence.items.top - items);
	} else {
		one = (yaml_node_item_t)(v - c->doc.nodes.start + 1);
		items = &one;
		n_items = 1;
	}
	for (size_t i = 0; !rc && i < n_items; i++) {
		yaml_node_t *e = yaml_document_get_node(&c->doc, items[i]);
		struct wp_source *ns = realloc(*out, (*n + 1) * sizeof(**out));

		if (!ns)
			return qk_err_set(err, QK_E_NOMEM, "out of memory");
		*out = ns;
		memset(&ns[*n], 0, sizeof(ns[*n]));
		(*n)++;
		if (scalar(e))
			rc = source_from_id(&ns[*n - 1], scalar(e), total, err);
		else if (e && e->type == YAML_MAPPING_NODE)
			for (int f = 0; !rc && f < WP_S_COUNT; f++)
				rc = set(&ns[*n - 1].f[f], scalar(map_get(&c->doc, e, source_keys[f], NULL)),
					 err);
	}
	return rc;
}

/* a scalar or a list of scalars, appended */
static int card_list(struct card *c, const char *key, char ***arr, size_t *n, qk_err *err)
{
	yaml_node_t *v = map_get(&c->doc, yaml_document_get_root_node(&c->doc), key, NULL);
	int rc = QK_OK;

	if (scalar(v))
		return push(arr, n, scalar(v), err);
	if (!v || v->type != YAML_SEQUENCE_NODE)
		return QK_OK;
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     !rc && it < v->data.sequence.items.top; it++) {
		const char *s = scalar(yaml_document_get_node(&c->doc, *it));

		if (s)
			rc = push(arr, n, s, err);
	}
	return rc;
}

static int apply_card(struct wp_auth *a, struct card *c, uint64_t total, qk_err *err)
{
	static const char *const base_keys[3] = { "base_model", "base_models", "base_model_sources" };
	static const char *const data_keys[3] = { "datasets", "dataset", "dataset_sources" };
	static const char *const lic[3] = { "license", "license_name", "license_link" };
	static const int lic_field[3] = { WP_A_LICENSE, WP_A_LICENSE_NAME, WP_A_LICENSE_LINK };
	yaml_node_t *root = yaml_document_get_root_node(&c->doc);
	int rc = QK_OK;

	for (size_t i = 0; !rc && i < sizeof(card_fields) / sizeof(card_fields[0]); i++)
		rc = set(&a->f[card_fields[i].field],
			 scalar(map_get(&c->doc, root, card_fields[i].key, NULL)), err);
	if (!rc)
		rc = card_sources(c, base_keys, &a->has_base, &a->base, &a->n_base, total, err);
	if (!rc)
		rc = card_sources(c, data_keys, &a->has_data, &a->data, &a->n_data, total, err);
	for (int i = 0; !rc && i < 3; i++) {
		char **l = NULL;
		size_t n = 0, len = 1;

		/* a license list is written joined with "," */
		if ((rc = card_list(c, lic[i], &l, &n, err)) == QK_OK && n && !a->f[lic_field[i]]) {
			for (size_t j = 0; j < n; j++)
				len += strlen(l[j]) + 1;
			if (!(a->f[lic_field[i]] = calloc(1, len)))
				rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
			for (size_t j = 0; !rc && j < n; j++) {
				if (j)
					strcat(a->f[lic_field[i]], ",");
				strcat(a->f[lic_field[i]], l[j]);
			}
		}
		for (size_t j = 0; j < n; j++)
			free(l[j]);
		free(l);
	}
	if (!rc)
		rc = card_list(c, "tags", &a->tags, &a->n_tags, err);
	if (!rc)
		rc = card_list(c, "pipeline_tag", &a->tags, &a->n_tags, err);
	if (!rc)
		rc = card_list(c, "languages", &a->langs, &a->n_langs, err);
	if (!rc)
		rc = card_list(c, "language", &a->langs, &a->n_langs, err);
	return rc;
}

/* ---- ids: config.json _name_or_path and the directory name ---- */

static int apply_id(struct wp_auth *a, const char *id, uint64_t total, qk_err *err)
{
	struct wp_id_parts ip;
	int rc;

	if ((rc = wp_id_parts(id, total, &ip, err)))
		return rc;
	if (!(rc = set_title(&a->f[WP_A_NAME], ip.full_name, err)) &&
	    !(rc = set_title(&a->f[WP_A_ORGANIZATION], ip.org, err)) &&
	    !(rc = set(&a->f[WP_A_BASENAME], ip.basename, err)) &&
	    !(rc = set(&a->f[WP_A_FINETUNE], ip.finetune, err)) &&
	    !(rc = set(&a->f[WP_A_VERSION], ip.version, err)))
		rc = set(&a->f[WP_A_SIZE_LABEL], ip.size_label, err);
	wp_id_parts_free(&ip);
	return rc;
}

/* "_name_or_path", when it looks like a model id rather than a path */
static int apply_name_or_path(struct wp_auth *a, const char *dir, uint64_t total, qk_err *err)
{
	cJSON *root;
	const cJSON *v;
	/* config.json was read before; failing now only loses the name, unless
	 * memory ran out */
	int rc = qk_json_load_optional(dir, "config.json", &root, err);

	if (rc)
		return rc;
	v = cJSON_GetObjectItemCaseSensitive(root, "_name_or_path");
	if (cJSON_IsString(v)) {
		size_t slashes = 0;

		for (const char *s = v->valuestring; *s; s++)
			slashes += *s == '/';
		if (slashes <= 1)
			rc = apply_id(a, v->valuestring, total, err);
	}
	cJSON_Delete(root);
	return rc;
}

/* the directory's own name ("Qwen2.5-7B-Instruct"), resolved */
static void dir_name(const char *dir, char *buf, size_t size)
{
	char real[PATH_MAX];
	const char *s = dir, *e;

	buf[0] = '\0';
	if (!dir)
		return;
	if (realpath(dir, real))
		s = real;
	e = s + strlen(s);
	while (e > s + 1 && e[-1] == '/')
		e--;
	for (const char *b = e; b > s; b--)
		if (b[-1] == '/') {
			s = b;
			break;
		}
	snprintf(buf, size, "%.*s", (int)(e - s), s);
}

int wp_auth_load(struct wp_auth *a, const struct wp_plan *p, const struct wp_meta_opts *o,
		 qk_err *err)
{
	uint64_t total, shared, expert, n_expert;
	char dn[PATH_MAX];
	struct card c;
	int rc = QK_OK;

	memset(a, 0, sizeof(*a));
	wp_param_counts(p, &total, &shared, &expert, &n_expert);
	card_load(&c, o->dir, a->note, sizeof(a->note));
	if (c.ok)
		rc = apply_card(a, &c, total, err);
	card_free(&c);
	if (!rc)
		rc = apply_name_or_path(a, o->dir, total, err);
	dir_name(o->dir, dn, sizeof(dn));
	if (!rc && dn[0])
		rc = apply_id(a, dn, total, err);
	if (!rc)
		rc = set(&a->f[WP_A_NAME], dn[0] ? dn : NULL, err);
	if (!rc && o->name) {
		free(a->f[WP_A_NAME]);
		a->f[WP_A_NAME] = NULL;
		rc = set(&a->f[WP_A_NAME], o->name, err);
	}
	if (!rc && !a->f[WP_A_SIZE_LABEL] && total > 0) {
		char label[64];

		wp_size_label(total, shared, expert, n_expert, label, sizeof(label));
		rc = set(&a->f[WP_A_SIZE_LABEL], label, err);
	}
	if (rc)
		wp_auth_free(a);
	return rc;
}

static void free_sources(struct wp_source *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int f = 0; f < WP_S_COUNT; f++)
			free(s[i].f[f]);
	free(s);
}

void wp_auth_free(struct wp_auth *a)
{
	if (!a)
		return;
	for (int f = 0; f < WP_A_COUNT; f++)
		free(a->f[f]);
	free_sources(a->base, a->n_base);
	free_sources(a->data, a->n_data);
	for (size_t i = 0; i < a->n_tags; i++)
		free(a->tags[i]);
	for (size_t i = 0; i < a->n_langs; i++)
		free(a->langs[i]);
	free(a->tags);
	free(a->langs);
	memset(a, 0, sizeof(*a));
}
