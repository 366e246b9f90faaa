/* recipe.c - qwen-quant recipes from YAML (libyaml's document loader, which
 * keeps a start mark on every node, so every message can name its line).
 * See recipe.h. */
#include "recipe.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "../../quant/mix.h"
#include "../../quant/qtype.h"
#include "../model/arch.h"
#include "../model/hparams.h"
#include "../base/io.h"

/* ---- types ---- */

bool rc_type_ok(int type)
{
	const struct qt_type *q = qt_type_get(type);

	/* Q8_K is ggml's dot-product intermediate, never a tensor type */
	return qt_has_quantizer(q) && type != QT_Q8_K;
}

/* "Q4_0 Q4_1 ..." for messages */
static void type_list(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int t = 0; t < QT_COUNT && n < size; t++)
		if (rc_type_ok(t))
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? " " : "",
					      qt_type_get(t)->name);
}

/* ---- parsing ---- */

struct parse {
	const char *path;
	yaml_document_t *doc;
	qk_err *err;
};

static unsigned line_of(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.line + 1;
}

/* "<recipe>:<line>: <message>", a usage error (err.h's one prefix helper) */
#define fail(p, n, ...) qk_err_set_at((p)->err, QK_E_USAGE, (p)->path, line_of(n), __VA_ARGS__)

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a sequence";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

/* a scalar's text, NUL-terminated (libyaml terminates scalar values) */
static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* YAML's plain null: "", "~", "null" */
static bool is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = scalar(n);
	return !*s || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0;
}

static yaml_node_t *node(const struct parse *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

/* The values of a condition: one scalar, or a non-empty sequence of
 * scalars. *items gets the node ids (a scalar is its own single item). */
static int values(const struct parse *p, yaml_node_t *v, const char *key, int *one,
		  yaml_node_item_t **items, size_t *n)
{
	if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
		*one = (int)(v - p->doc->nodes.start) + 1;
		*items = one;
		*n = 1;
		return QK_OK;
	}
	if (v->type == YAML_SEQUENCE_NODE && v->data.sequence.items.top > v->data.sequence.items.start) {
		*items = v->data.sequence.items.start;
		*n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
		for (size_t i = 0; i < *n; i++) {
			yaml_node_t *e = node(p, (*items)[i]);

			if (e->type != YAML_SCALAR_NODE || is_null(e))
				return fail(p, e, "'%s': expected a value, found %s", key,
					    is_null(e) ? "null" : node_kind(e));
		}
		return QK_OK;
	}
	return fail(p, v, "'%s': expected a value or a non-empty list of values, found %s", key,
		    is_null(v) ? "null" : node_kind(v));
}

/* "token_embd, output, attn_q, ...": every role name once, in table order */
static void known_roles(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int r = 0; r < QK_ROLE_COUNT && n < size; r++) {
		const char *name = qk_role_name(r);
		bool seen = false;
		for (int q = 0; q < r && !seen; q++)
			seen = strcmp(qk_role_name(q), name) == 0;
		if (!seen)
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", name);
	}
}

static int strdup_list(const struct parse *p, yaml_node_t *v, const char *key, char ***out,
		       size_t *n_out, bool (*check)(const char *), const char *what)
{
	yaml_node_item_t *items;
	int one;
	size_t n;
	int rc;

	if ((rc = values(p, v, key, &one, &items, &n)))
		return rc;
	if (!(*out = calloc(n, sizeof(**out))))
		return qk_err_set(p->err, QK_E_NOMEM, "out of memory reading %s", p->path);
	*n_out = n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *e = node(p, items[i]);
		const char *s = scalar(e);

		if (!*s)
			return fail(p, e, "'%s': empty %s", key, what);
		if (check && !check(s)) {
			char known[700];
			known_roles(known, sizeof(known));
			return fail(p, e, "unknown %s '%.80s' (%ss: %s)", what, s, what, known);
		}
		if (!((*out)[i] = strdup(s)))
			return qk_err_set(p->err, QK_E_NOMEM, "out of memory reading %s", p->path);
	}
	return QK_OK;
}

static bool role_known(const char *s)
{
	for (int r = 0; r < QK_ROLE_COUNT; r++)
		if (strcmp(qk_role_name(r), s) == 0)
			return true;
	return false;
}

/* an integer in (-QK_MAX_LAYERS, QK_MAX_LAYERS), the whole of [s, end) */
static bool layer_num(const char *s, const char *end, long *out)
{
	char buf[32];
	char *e;
	long v;

	if (end - s <= 0 || end - s >= (long)sizeof(buf))
		return false;
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
		return false;
	errno = 0;
	v = strtol(buf, &e, 10);
	if (e == buf || *e || errno == ERANGE || v <= -(long)QK_MAX_LAYERS || v >= (long)QK_MAX_LAYERS)
		return false;
	*out = v;
	return true;
}

static int parse_layers(const struct parse *p, yaml_node_t *v, struct rc_rule *r)
{
	yaml_node_item_t *items;
	int one;
	size_t n;
	int rc;

	if ((rc = values(p, v, "layers", &one, &items, &n)))
		return rc;
	if (!(r->layers = calloc(n, sizeof(*r->layers))))
		return qk_err_set(p->err, QK_E_NOMEM, "out of memory reading %s", p->path);
	r->n_layers = n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *e = node(p, items[i]);
		const char *s = scalar(e), *dots = strstr(s, "..");
		struct rc_range *g = &r->layers[i];

		if (dots ? !layer_num(s, dots, &g->lo) || !layer_num(dots + 2, s + strlen(s), &g->hi)
			 : !layer_num(s, s + strlen(s), &g->lo))
			return fail(p, e, "layer '%.80s' is not a block number or a range A..B "
				    "(integers above -%u and below %u; negative counts from the end)",
				    s, (unsigned)QK_MAX_LAYERS, (unsigned)QK_MAX_LAYERS);
		if (!dots)
			g->hi = g->lo;
		if ((g->lo < 0) == (g->hi < 0) && g->lo > g->hi)
			return fail(p, e, "layer range '%.80s' is reversed (expected A..B with A <= B)", s);
	}
	return QK_OK;
}

static const struct {
	const char *name;
	unsigned bit;
} kinds[] = {
	{ "linear", RC_KIND_LINEAR }, { "full", RC_KIND_FULL },
	{ "moe", RC_KIND_MOE }, { "dense", RC_KIND_DENSE },
};

static int parse_kinds(const struct parse *p, yaml_node_t *v, struct rc_rule *r)
{
	yaml_node_item_t *items;
	int one;
	size_t n;
	int rc;

	if ((rc = values(p, v, "layer_kind", &one, &items, &n)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *e = node(p, items[i]);
		size_t k;

		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (strcmp(scalar(e), kinds[k].name) == 0)
				break;
		if (k == sizeof(kinds) / sizeof(kinds[0]))
			return fail(p, e, "unknown layer_kind '%.80s' (known: linear, full, moe, dense)",
				    scalar(e));
		r->kinds |= kinds[k].bit;
	}
	return QK_OK;
}

static int parse_type(const struct parse *p, yaml_node_t *v, struct rc_rule *r)
{
	const struct qt_type *q;
	char list[256];

	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return fail(p, v, "'type': expected a type name, found %s",
			    is_null(v) ? "null" : node_kind(v));
	q = qt_type_by_name(scalar(v));
	if (q && rc_type_ok(q->id)) {
		r->type = q->id;
		return QK_OK;
	}
	type_list(list, sizeof(list));
	if (qm_mix_by_name(scalar(v)))
		return fail(p, v, "'%.80s' is a mix, not a tensor type (types: %s)", scalar(v), list);
	return fail(p, v, "unknown type '%.80s' (types: %s)", scalar(v), list);
}

enum rkey { K_NAME, K_ROLE, K_LAYERS, K_KIND, K_TYPE, K_COUNT };
static const char *const rule_keys[K_COUNT] = { "name", "role", "layers", "layer_kind", "type" };

/* which key of `keys` (n of them) s is, or -1 */
static int key_index(const char *const *keys, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(keys[i], s) == 0)
			return i;
	return -1;
}

/* Check that a mapping's keys are scalars, known and unique; seen[] gets
 * the value node of each key. */
static int map_keys(const struct parse *p, yaml_node_t *m, const char *const *keys, int n_keys,
		    const char *known, yaml_node_t **seen)
{
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(p, pr->key);
		int i;

		if (k->type != YAML_SCALAR_NODE)
			return fail(p, k, "expected a key, found %s", node_kind(k));
		if ((i = key_index(keys, n_keys, scalar(k))) < 0)
			return fail(p, k, "unknown key '%.80s' (known: %s)", scalar(k), known);
		if (seen[i])
			return fail(p, k, "key '%s' given twice", keys[i]);
		seen[i] = node(p, pr->value);
	}
	return QK_OK;
}

static int parse_rule(const struct parse *p, yaml_node_t *m, struct rc_rule *r)
{
	yaml_node_t *v[K_COUNT] = { 0 };
	int rc;

	r->line = line_of(m);
	if (m->type != YAML_MAPPING_NODE)
		return fail(p, m, "a rule must be a mapping (name, role, layers, layer_kind, type), "
			    "found %s", is_null(m) ? "null" : node_kind(m));
	if ((rc = map_keys(p, m, rule_keys, K_COUNT, "name, role, layers, layer_kind, type", v)))
		return rc;
	if (!v[K_TYPE])
		return fail(p, m, "rule has no 'type'");
	if (!v[K_NAME] && !v[K_ROLE] && !v[K_LAYERS] && !v[K_KIND])
		return fail(p, m, "rule has no condition (name, role, layers or layer_kind)");
	if ((v[K_NAME] && (rc = strdup_list(p, v[K_NAME], "name", &r->names, &r->n_names, NULL,
					    "glob"))) ||
	    (v[K_ROLE] && (rc = strdup_list(p, v[K_ROLE], "role", &r->roles, &r->n_roles,
					    role_known, "role"))) ||
	    (v[K_LAYERS] && (rc = parse_layers(p, v[K_LAYERS], r))) ||
	    (v[K_KIND] && (rc = parse_kinds(p, v[K_KIND], r))) ||
	    (rc = parse_type(p, v[K_TYPE], r)))
		return rc;
	return QK_OK;
}

enum tkey { T_RULES, T_DESCRIPTION, T_COUNT };
static const char *const top_keys[T_COUNT] = { "rules", "description" };

static int parse_doc(const struct parse *p, struct rc_recipe *r)
{
	yaml_node_t *root = yaml_document_get_root_node(p->doc), *v[T_COUNT] = { 0 }, *rules;
	size_t n;
	int rc;

	if (!root || is_null(root))
		return qk_err_set(p->err, QK_E_USAGE, "%s: empty recipe: expected a mapping with "
				  "'rules'", p->path);
	if (root->type != YAML_MAPPING_NODE)
		return fail(p, root, "expected a mapping with 'rules', found %s", node_kind(root));
	if ((rc = map_keys(p, root, top_keys, T_COUNT, "rules, description", v)))
		return rc;
	if (v[T_DESCRIPTION] && v[T_DESCRIPTION]->type != YAML_SCALAR_NODE)
		return fail(p, v[T_DESCRIPTION], "'description': expected a string, found %s",
			    node_kind(v[T_DESCRIPTION]));
	if (!(rules = v[T_RULES]))
		return fail(p, root, "no 'rules'");
	if (rules->type != YAML_SEQUENCE_NODE ||
	    rules->data.sequence.items.top == rules->data.sequence.items.start)
		return fail(p, rules, "'rules': expected a non-empty list of rules, found %s",
			    rules->type == YAML_SEQUENCE_NODE ? "an empty list"
			    : is_null(rules) ? "null" : node_kind(rules));
	n = (size_t)(rules->data.sequence.items.top - rules->data.sequence.items.start);
	if (!(r->rules = calloc(n, sizeof(*r->rules))))
		return qk_err_set(p->err, QK_E_NOMEM, "out of memory reading %s", p->path);
	for (r->n = 0; r->n < n; r->n++)
		if ((rc = parse_rule(p, node(p, rules->data.sequence.items.start[r->n]),
				     &r->rules[r->n]))) {
			r->n++; /* free the partial rule too */
			return rc;
		}
	return QK_OK;
}

int rc_parse(struct rc_recipe *r, const char *text, size_t len, const char *name, qk_err *err)
{
	struct parse p = { name, NULL, err };
	yaml_parser_t yp;
	yaml_document_t doc, extra;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!(r->path = strdup(name)))
		return qk_err_set(err, QK_E_NOMEM, "out of memory reading %s", name);
	if (!yaml_parser_initialize(&yp)) {
		rc_free(r);
		return qk_err_set(err, QK_E_NOMEM, "out of memory for a YAML parser");
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if (!yaml_parser_load(&yp, &doc)) {
		rc = qk_err_set(err, yp.error == YAML_MEMORY_ERROR ? QK_E_NOMEM : QK_E_USAGE,
				"%s:%zu: not valid YAML: %s", name, (size_t)yp.problem_mark.line + 1,
				yp.problem ? yp.problem : "parse error");
		yaml_parser_delete(&yp);
		rc_free(r);
		return rc;
	}
	p.doc = &doc;
	rc = parse_doc(&p, r);
	if (!rc) {
		/* one document only: a second would be silently ignored */
		if (!yaml_parser_load(&yp, &extra)) {
			rc = qk_err_set(err, QK_E_USAGE, "%s:%zu: not valid YAML: %s", name,
					(size_t)yp.problem_mark.line + 1,
					yp.problem ? yp.problem : "parse error");
		} else {
			yaml_node_t *x = yaml_document_get_root_node(&extra);

			if (x)
				rc = qk_err_set(err, QK_E_USAGE, "%s:%u: more than one YAML document",
						name, line_of(x));
			yaml_document_delete(&extra);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&yp);
	if (rc)
		rc_free(r);
	return rc;
}

int rc_load(struct rc_recipe *r, const char *path, qk_err *err)
{
	char *txt = NULL;
	size_t len;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = qk_read_file(path, RC_MAX_BYTES, &txt, &len, err)))
		return rc;
	rc = rc_parse(r, txt, len, path, err);
	free(txt);
	return rc;
}

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void rc_free(struct rc_recipe *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->rules && i < r->n; i++) {
		free_strs(r->rules[i].names, r->rules[i].n_names);
		free_strs(r->rules[i].roles, r->rules[i].n_roles);
		free(r->rules[i].layers);
	}
	free(r->rules);
	free(r->path);
	memset(r, 0, sizeof(*r));
}

/* ---- matching ---- */

static long resolve(long v, uint32_t n_layer)
{
	return v < 0 ? (long)n_layer + v : v;
}

static bool rule_matches(const struct rc_rule *r, const struct rc_subject *s, uint32_t n_layer)
{
	bool hit;

	if (r->n_names) {
		hit = false;
		for (size_t i = 0; !hit && i < r->n_names; i++)
			hit = fnmatch(r->names[i], s->name, 0) == 0;
		if (!hit)
			return false;
	}
	if (r->n_roles) {
		hit = false;
		for (size_t i = 0; !hit && s->role && i < r->n_roles; i++)
			hit = strcmp(r->roles[i], s->role) == 0;
		if (!hit)
			return false;
	}
	if ((r->n_layers || r->kinds) && s->layer < 0)
		return false;
	if (r->n_layers) {
		hit = false;
		for (size_t i = 0; !hit && i < r->n_layers; i++)
			hit = resolve(r->layers[i].lo, n_layer) <= s->layer &&
			      s->layer <= resolve(r->layers[i].hi, n_layer);
		if (!hit)
			return false;
	}
	if (r->kinds) {
		unsigned have = (s->layer_flags & QK_LAYER_LINEAR ? RC_KIND_LINEAR : RC_KIND_FULL) |
				(s->layer_flags & QK_LAYER_MOE ? RC_KIND_MOE : RC_KIND_DENSE);

		if (!(have & r->kinds))
			return false;
	}
	return true;
}

long rc_match(const struct rc_recipe *r, const struct rc_subject *s, uint32_t n_layer)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (rule_matches(&r->rules[i], s, n_layer))
			return (long)i;
	return -1;
}
