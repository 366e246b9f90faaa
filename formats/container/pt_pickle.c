/* pt_pickle.c - the restricted unpickler of PyTorch checkpoints: a pickle
 * machine that knows only the opcodes and globals a state dict needs and
 * that torch.load(weights_only=True) accepts, and runs nothing (pt.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/dtype.h"
#include "../base/io.h"
#include "pt_priv.h"

enum vkind { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_TUPLE, V_LIST, V_DICT, V_GLOBAL,
	     V_STORAGE, V_TENSOR };

static const char *const vkind_name[] = {
	"None", "a bool", "an int", "a float", "a string", "a tuple", "a list", "a dict",
	"a global", "a storage", "a tensor",
};

enum glob { G_ODICT, G_REBUILD, G_PARAM, G_STORAGE };

/* the globals a state dict is made of; anything else is refused */
static const struct {
	const char *mod, *name;
	int g;
	int dtype;                 /* G_STORAGE: its element type */
} globals[] = {
	{ "collections", "OrderedDict", G_ODICT, -1 },
	{ "torch._utils", "_rebuild_tensor_v2", G_REBUILD, -1 },
	{ "torch._utils", "_rebuild_parameter", G_PARAM, -1 },
	{ "torch", "FloatStorage", G_STORAGE, QK_DT_F32 },
	{ "torch", "HalfStorage", G_STORAGE, QK_DT_F16 },
	{ "torch", "BFloat16Storage", G_STORAGE, QK_DT_BF16 },
	{ "torch", "DoubleStorage", G_STORAGE, QK_DT_F64 },
	{ "torch", "LongStorage", G_STORAGE, QK_DT_I64 },
	{ "torch", "IntStorage", G_STORAGE, QK_DT_I32 },
	{ "torch", "ShortStorage", G_STORAGE, QK_DT_I16 },
	{ "torch", "CharStorage", G_STORAGE, QK_DT_I8 },
	{ "torch", "ByteStorage", G_STORAGE, QK_DT_U8 },
	{ "torch", "BoolStorage", G_STORAGE, QK_DT_BOOL },
};
#define N_GLOBALS (sizeof(globals) / sizeof(globals[0]))

/* names of the opcodes refused, for the message */
static const struct {
	uint8_t op;
	const char *name;
} refused_ops[] = {
	{ 'i', "INST" }, { 'o', "OBJ" }, { 0x81, "NEWOBJ" }, { 0x92, "NEWOBJ_EX" },
	{ 0x93, "STACK_GLOBAL" }, { 0x82, "EXT1" }, { 0x83, "EXT2" }, { 0x84, "EXT4" },
	{ 'P', "PERSID" }, { 0x95, "FRAME" }, { 0x94, "MEMOIZE" }, { 0x8c, "SHORT_BINUNICODE" },
	{ 0x8d, "BINUNICODE8" }, { 'B', "BINBYTES" }, { 'C', "SHORT_BINBYTES" },
	{ 0x8e, "BINBYTES8" }, { 0x96, "BYTEARRAY8" }, { 0x97, "NEXT_BUFFER" },
	{ 0x98, "READONLY_BUFFER" }, { 'I', "INT" }, { 'L', "LONG" }, { 'S', "STRING" },
	{ 'T', "BINSTRING" }, { 'V', "UNICODE" }, { 'F', "FLOAT" }, { 'd', "DICT" },
	{ 'l', "LIST" }, { '2', "DUP" }, { '0', "POP" }, { '1', "POP_MARK" }, { 'g', "GET" },
	{ 'p', "PUT" }, { 0x8b, "LONG4" }, { 0x90, "ADDITEMS" }, { 0x91, "FROZENSET" },
};

struct val {
	uint8_t kind;              /* enum vkind */
	uint8_t g;                 /* V_GLOBAL: enum glob */
	int dtype;                 /* V_GLOBAL storage type, V_STORAGE */
	int64_t i;                 /* V_INT, V_BOOL; V_STORAGE: numel */
	const char *s;             /* V_STR; V_STORAGE: key (into the pickle) */
	size_t slen;
	uint32_t n, cap;           /* V_TUPLE, V_LIST, V_DICT (n = 2 x pairs) */
	uint32_t *items;           /* [n] value indices, owned */
	uint32_t tensor;           /* V_TENSOR: index into vm.tensors */
};

struct vm {
	const uint8_t *p;          /* the pickle */
	size_t n, pos;
	const char *file;
	qk_err *err;
	struct val *v;             /* [nv] values */
	uint32_t nv, cap_v;
	uint32_t *stack;           /* [ns] value indices */
	uint32_t ns, cap_s;
	uint32_t *marks;           /* [nm] stack heights */
	uint32_t nm, cap_m;
	uint32_t *memo;            /* [n_memo] value index + 1; 0: empty */
	uint32_t n_memo;
	struct pt_tensor *tensors; /* [nt] built by _rebuild_tensor_v2 */
	uint32_t nt, cap_t;
};

static int fail(struct vm *m, size_t at, const char *fmt, const char *what)
{
	return qk_err_set(m->err, QK_E_INVALID, "%s: data.pkl offset %zu: %s%s", m->file, at, fmt,
			  what ? what : "");
}

static int oom(struct vm *m)
{
	return qk_err_set(m->err, QK_E_NOMEM, "%s: out of memory unpickling", m->file);
}

/* grow a uint32 array to hold one more */
static bool grow(void **a, uint32_t *cap, uint32_t n, size_t esz, uint32_t limit)
{
	void *na;
	uint32_t nc;

	if (n < *cap)
		return true;
	if (n >= limit)
		return false;
	nc = *cap ? (*cap > limit / 2 ? limit : *cap * 2) : 16;
	na = realloc(*a, (size_t)nc * esz);
	if (!na)
		return false;
	*a = na;
	*cap = nc;
	return true;
}

/* a new value of kind k; its index in *out */
static int new_val(struct vm *m, int k, uint32_t *out)
{
	if (m->nv >= PT_MAX_VALUES)
		return fail(m, m->pos, "more values than the limit", NULL);
	if (!grow((void **)&m->v, &m->cap_v, m->nv, sizeof(*m->v), PT_MAX_VALUES))
		return oom(m);
	memset(&m->v[m->nv], 0, sizeof(*m->v));
	m->v[m->nv].kind = (uint8_t)k;
	*out = m->nv++;
	return QK_OK;
}

static int push(struct vm *m, uint32_t v)
{
	if (m->ns >= PT_MAX_DEPTH)
		return fail(m, m->pos, "the stack is deeper than the limit", NULL);
	if (!grow((void **)&m->stack, &m->cap_s, m->ns, sizeof(*m->stack), PT_MAX_DEPTH))
		return oom(m);
	m->stack[m->ns++] = v;
	return QK_OK;
}

static int push_new(struct vm *m, int k, uint32_t *out)
{
	uint32_t v;
	int rc = new_val(m, k, &v);

	if (!rc)
		rc = push(m, v);
	if (out)
		*out = v;
	return rc;
}

static int pop(struct vm *m, size_t at, uint32_t *out)
{
	if (m->ns == 0 || (m->nm && m->ns <= m->marks[m->nm - 1]))
		return fail(m, at, "a value is taken from an empty stack", NULL);
	*out = m->stack[--m->ns];
	return QK_OK;
}

static int top(struct vm *m, size_t at, uint32_t *out)
{
	if (m->ns == 0 || (m->nm && m->ns <= m->marks[m->nm - 1]))
		return fail(m, at, "the stack is empty", NULL);
	*out = m->stack[m->ns - 1];
	return QK_OK;
}

static int add_item(struct vm *m, uint32_t c, uint32_t item)
{
	struct val *v = &m->v[c];

	if (!grow((void **)&v->items, &v->cap, v->n, sizeof(*v->items), PT_MAX_VALUES))
		return oom(m);
	v->items[v->n++] = item;
	return QK_OK;
}

/* the items above the last MARK become container c's (the MARK is popped) */
static int take_marked(struct vm *m, size_t at, uint32_t c, uint32_t every)
{
	uint32_t h;
	int rc;

	if (!m->nm)
		return fail(m, at, "no MARK", NULL);
	h = m->marks[--m->nm];
	if ((m->ns - h) % every)
		return fail(m, at, "an odd number of values for key/value pairs", NULL);
	for (uint32_t k = h; k < m->ns; k++)
		if ((rc = add_item(m, c, m->stack[k])))
			return rc;
	m->ns = h;
	return QK_OK;
}

static int need(struct vm *m, size_t k, const uint8_t **p)
{
	if (m->n - m->pos < k)
		return fail(m, m->pos, "the pickle ends inside an opcode's argument", NULL);
	*p = m->p + m->pos;
	m->pos += k;
	return QK_OK;
}

/* ---- the operations with a meaning of their own ---- */

static int op_global(struct vm *m, size_t at)
{
	const uint8_t *a = m->p + m->pos, *e1, *e2;
	char what[160];
	uint32_t v;
	int rc;

	e1 = memchr(a, '\n', m->n - m->pos);
	e2 = e1 ? memchr(e1 + 1, '\n', m->n - (size_t)(e1 + 1 - m->p)) : NULL;
	if (!e2)
		return fail(m, at, "GLOBAL without its two lines", NULL);
	m->pos = (size_t)(e2 + 1 - m->p);
	for (size_t i = 0; i < N_GLOBALS; i++)
		if ((size_t)(e1 - a) == strlen(globals[i].mod) &&
		    memcmp(a, globals[i].mod, (size_t)(e1 - a)) == 0 &&
		    (size_t)(e2 - e1 - 1) == strlen(globals[i].name) &&
		    memcmp(e1 + 1, globals[i].name, (size_t)(e2 - e1 - 1)) == 0) {
			if ((rc = push_new(m, V_GLOBAL, &v)))
				return rc;
			m->v[v].g = (uint8_t)globals[i].g;
			m->v[v].dtype = globals[i].dtype;
			return QK_OK;
		}
	snprintf(what, sizeof(what), "'%.*s.%.*s'", (int)(e1 - a < 60 ? e1 - a : 60), a,
		 (int)(e2 - e1 - 1 < 60 ? e2 - e1 - 1 : 60), e1 + 1);
	return qk_err_set(m->err, QK_E_INVALID,
			  "%s: data.pkl offset %zu: global %s refused: a state dict needs only "
			  "collections.OrderedDict, torch._utils._rebuild_tensor_v2 / "
			  "_rebuild_parameter and torch.<Type>Storage (nothing is imported or run)",
			  m->file, at, what);
}

static bool is_int(const struct val *v, int64_t lo)
{
	return v->kind == V_INT && v->i >= lo;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, meta]) */
static int rebuild(struct vm *m, size_t at, const struct val *args, uint32_t *out)
{
	const struct val *st, *size, *stride;
	struct pt_tensor *t;
	uint64_t expect = 1;
	int rc;

	if (args->n < 6 || args->n > 7)
		return fail(m, at, "_rebuild_tensor_v2 needs 6 or 7 arguments", NULL);
	st = &m->v[args->items[0]];
	size = &m->v[args->items[2]];
	stride = &m->v[args->items[3]];
	if (st->kind != V_STORAGE || !is_int(&m->v[args->items[1]], 0) ||
	    size->kind != V_TUPLE || stride->kind != V_TUPLE || size->n != stride->n)
		return fail(m, at, "_rebuild_tensor_v2 arguments are not (storage, offset, size, "
			    "stride, ...)", NULL);
	if (size->n > QK_MAX_DIMS)
		return fail(m, at, "a tensor of more than 8 dimensions", NULL);
	if (!grow((void **)&m->tensors, &m->cap_t, m->nt, sizeof(*m->tensors), PT_MAX_VALUES))
		return oom(m);
	t = &m->tensors[m->nt];
	memset(t, 0, sizeof(*t));
	t->key = st->s;
	t->key_len = st->slen;
	t->dtype = st->dtype;
	t->numel = (uint64_t)st->i;
	t->offset = (uint64_t)m->v[args->items[1]].i;
	t->n_dims = (int)size->n;
	/* row-major contiguous: stride[d] = prod(size[d+1..]) wherever size[d] > 1 */
	for (int d = (int)size->n - 1; d >= 0; d--) {
		const struct val *sz = &m->v[size->items[d]], *sd = &m->v[stride->items[d]];

		if (!is_int(sz, 0) || !is_int(sd, 0))
			return fail(m, at, "a tensor size or stride is not a non-negative int", NULL);
		t->shape[d] = (uint64_t)sz->i;
		if (sz->i > 1 && (uint64_t)sd->i != expect)
			return qk_err_set(m->err, QK_E_UNSUPPORTED,
					  "%s: data.pkl offset %zu: a non-contiguous tensor (stride %lld "
					  "in dimension %d, contiguous is %llu): save it after "
					  ".contiguous()", m->file, at, (long long)sd->i, d,
					  (unsigned long long)expect);
		if (!qk_mul_u64(expect, t->shape[d], &expect))
			return fail(m, at, "a tensor size beyond 64 bits", NULL);
	}
	if ((rc = new_val(m, V_TENSOR, out)))
		return rc;
	m->v[*out].tensor = m->nt++;
	return QK_OK;
}

static int op_reduce(struct vm *m, size_t at)
{
	uint32_t a = 0, f = 0, r = 0;
	const struct val *fv, *args;
	int rc;

	if ((rc = pop(m, at, &a)) || (rc = top(m, at, &f)))
		return rc;
	fv = &m->v[f];
	args = &m->v[a];
	if (fv->kind != V_GLOBAL || fv->g == G_STORAGE)
		return fail(m, at, "REDUCE calls ", fv->kind == V_GLOBAL ? "a storage type"
									  : vkind_name[fv->kind]);
	if (args->kind != V_TUPLE)
		return fail(m, at, "REDUCE arguments are not a tuple", NULL);
	switch (fv->g) {
	case G_ODICT:
		if (args->n)
			return fail(m, at, "OrderedDict(...) with arguments", NULL);
		if ((rc = new_val(m, V_DICT, &r)))
			return rc;
		break;
	case G_REBUILD:
		if ((rc = rebuild(m, at, args, &r)))
			return rc;
		break;
	default: /* G_PARAM: _rebuild_parameter(tensor, requires_grad, hooks) */
		if (args->n != 3 || m->v[args->items[0]].kind != V_TENSOR)
			return fail(m, at, "_rebuild_parameter arguments are not (tensor, ...)", NULL);
		r = args->items[0];
		break;
	}
	m->stack[m->ns - 1] = r;
	return QK_OK;
}

/* ('storage', torch.<Type>Storage, key, location, numel) */
static int op_persid(struct vm *m, size_t at)
{
	uint32_t p = 0, v = 0;
	const struct val *t;
	int rc;

	if ((rc = pop(m, at, &p)))
		return rc;
	t = &m->v[p];
	if (t->kind != V_TUPLE || t->n != 5 || m->v[t->items[0]].kind != V_STR ||
	    m->v[t->items[0]].slen != 7 || memcmp(m->v[t->items[0]].s, "storage", 7) != 0)
		return fail(m, at, "a persistent id that is not ('storage', type, key, location, "
			    "numel)", NULL);
	if (m->v[t->items[1]].kind != V_GLOBAL || m->v[t->items[1]].g != G_STORAGE ||
	    m->v[t->items[2]].kind != V_STR || !is_int(&m->v[t->items[4]], 0))
		return fail(m, at, "a storage persistent id with a bad type, key or size", NULL);
	{
		/* copies first: new_val may move the values */
		const int dtype = m->v[t->items[1]].dtype;
		const char *key = m->v[t->items[2]].s;
		const size_t klen = m->v[t->items[2]].slen;
		const int64_t numel = m->v[t->items[4]].i;

		if ((rc = new_val(m, V_STORAGE, &v)))
			return rc;
		m->v[v].dtype = dtype;
		m->v[v].s = key;
		m->v[v].slen = klen;
		m->v[v].i = numel;
	}
	return push(m, v);
}

static int op_memo(struct vm *m, size_t at, bool put, uint32_t idx)
{
	uint32_t v;
	int rc;

	if (idx >= PT_MAX_MEMO)
		return fail(m, at, "a memo index beyond the limit", NULL);
	if (!put) {
		if (idx >= m->n_memo || !m->memo[idx])
			return fail(m, at, "GET of an empty memo slot", NULL);
		return push(m, m->memo[idx] - 1);
	}
	if ((rc = top(m, at, &v)))
		return rc;
	if (idx >= m->n_memo) {
		uint32_t nn = idx + 1 > m->n_memo * 2 ? idx + 1 : m->n_memo * 2;
		uint32_t *nm = realloc(m->memo, (size_t)nn * sizeof(*nm));

		if (!nm)
			return oom(m);
		memset(nm + m->n_memo, 0, (size_t)(nn - m->n_memo) * sizeof(*nm));
		m->memo = nm;
		m->n_memo = nn;
	}
	m->memo[idx] = v + 1;
	return QK_OK;
}

/* SETITEM(S), APPEND(S): into the container below the MARK (or the value) */
static int op_fill(struct vm *m, size_t at, bool dict, bool many)
{
	uint32_t c = 0, k = 0, v = 0, h;
	int rc;

	if (many) {
		if (!m->nm || m->marks[m->nm - 1] == 0)
			return fail(m, at, "SETITEMS/APPENDS without a MARK above a container", NULL);
		h = m->marks[m->nm - 1];
		c = m->stack[h - 1];
		if (m->v[c].kind != (dict ? V_DICT : V_LIST))
			return fail(m, at, dict ? "SETITEMS into " : "APPENDS to ",
				    vkind_name[m->v[c].kind]);
		return take_marked(m, at, c, dict ? 2 : 1);
	}
	if ((rc = pop(m, at, &v)) || (dict && (rc = pop(m, at, &k))) || (rc = top(m, at, &c)))
		return rc;
	if (m->v[c].kind != (dict ? V_DICT : V_LIST))
		return fail(m, at, dict ? "SETITEM into " : "APPEND to ", vkind_name[m->v[c].kind]);
	if (dict && (rc = add_item(m, c, k)))
		return rc;
	return add_item(m, c, v);
}

static int op_tuple(struct vm *m, size_t at, int n)
{
	uint32_t t, h;
	int rc;

	if ((rc = new_val(m, V_TUPLE, &t)))
		return rc;
	if (n < 0)
		return (rc = take_marked(m, at, t, 1)) ? rc : push(m, t);
	if (m->ns < (uint32_t)n || (m->nm && m->ns - (uint32_t)n < m->marks[m->nm - 1]))
		return fail(m, at, "a tuple of more values than the stack holds", NULL);
	h = m->ns - (uint32_t)n;
	for (uint32_t k = h; k < m->ns; k++)
		if ((rc = add_item(m, t, m->stack[k])))
			return rc;
	m->ns = h;
	return push(m, t);
}

static int op_string(struct vm *m, size_t len)
{
	const uint8_t *s = NULL;
	uint32_t v;
	int rc;

	if ((rc = need(m, len, &s)) || (rc = push_new(m, V_STR, &v)))
		return rc;
	m->v[v].s = (const char *)s;
	m->v[v].slen = len;
	return QK_OK;
}

static int op_int(struct vm *m, int64_t i, int kind)
{
	uint32_t v;
	int rc = push_new(m, kind, &v);

	if (!rc)
		m->v[v].i = i;
	return rc;
}

/* LONG1: n little-endian two's complement bytes, up to 8 */
static int op_long1(struct vm *m, size_t at)
{
	const uint8_t *p = NULL;
	uint64_t u = 0;
	int rc;

	if ((rc = need(m, 1, &p)))
		return rc;
	if (*p > 8)
		return fail(m, at, "an integer beyond 64 bits", NULL);
	{
		size_t n = *p;

		if ((rc = need(m, n, &p)))
			return rc;
		for (size_t k = 0; k < n; k++)
			u |= (uint64_t)p[k] << (8 * k);
		if (n && n < 8 && (p[n - 1] & 0x80))
			u |= ~0ull << (8 * n);
	}
	return op_int(m, (int64_t)u, V_INT);
}

static int refuse_op(struct vm *m, size_t at, uint8_t op)
{
	const char *name = NULL;

	for (size_t i = 0; i < sizeof(refused_ops) / sizeof(refused_ops[0]); i++)
		if (refused_ops[i].op == op)
			name = refused_ops[i].name;
	return qk_err_set(m->err, QK_E_INVALID,
			  "%s: data.pkl offset %zu: opcode 0x%02x (%s) refused: not one that "
			  "torch.load(weights_only=True) accepts for a state dict", m->file, at, op,
			  name ? name : "unknown");
}

/* one opcode; *done at STOP */
static int step(struct vm *m, bool *done)
{
	const size_t at = m->pos;
	const uint8_t *a = NULL;
	uint32_t v = 0, w = 0;
	uint8_t op;
	int rc;

	if ((rc = need(m, 1, &a)))
		return fail(m, at, "the pickle ends without STOP", NULL);
	op = *a;
	switch (op) {
	case 0x80: return need(m, 1, &a); /* PROTO */
	case '.': *done = true; return QK_OK;
	case '(':
		if (!grow((void **)&m->marks, &m->cap_m, m->nm, sizeof(*m->marks), PT_MAX_DEPTH))
			return m->nm >= PT_MAX_DEPTH ? fail(m, at, "too many MARKs", NULL) : oom(m);
		m->marks[m->nm++] = m->ns;
		return QK_OK;
	case 'c': return op_global(m, at);
	case 'R': return op_reduce(m, at);
	case 'b': /* BUILD: state on a dict (OrderedDict attributes): dropped */
		if ((rc = pop(m, at, &v)) || (rc = top(m, at, &w)))
			return rc;
		return m->v[w].kind == V_DICT ? QK_OK : fail(m, at, "BUILD on ",
							      vkind_name[m->v[w].kind]);
	case 'Q': return op_persid(m, at);
	case 'h': return (rc = need(m, 1, &a)) ? rc : op_memo(m, at, false, a[0]);
	case 'j': return (rc = need(m, 4, &a)) ? rc : op_memo(m, at, false, qk_ld32(a));
	case 'q': return (rc = need(m, 1, &a)) ? rc : op_memo(m, at, true, a[0]);
	case 'r': return (rc = need(m, 4, &a)) ? rc : op_memo(m, at, true, qk_ld32(a));
	case 's': return op_fill(m, at, true, false);
	case 'u': return op_fill(m, at, true, true);
	case 'a': return op_fill(m, at, false, false);
	case 'e': return op_fill(m, at, false, true);
	case 't': return op_tuple(m, at, -1);
	case ')': return op_tuple(m, at, 0);
	case 0x85: return op_tuple(m, at, 1);
	case 0x86: return op_tuple(m, at, 2);
	case 0x87: return op_tuple(m, at, 3);
	case ']': case 0x8f: return push_new(m, V_LIST, NULL); /* EMPTY_LIST, EMPTY_SET */
	case '}': return push_new(m, V_DICT, NULL);
	case 'N': return push_new(m, V_NONE, NULL);
	case 0x88: return op_int(m, 1, V_BOOL);
	case 0x89: return op_int(m, 0, V_BOOL);
	case 'J': return (rc = need(m, 4, &a)) ? rc : op_int(m, (int32_t)qk_ld32(a), V_INT);
	case 'K': return (rc = need(m, 1, &a)) ? rc : op_int(m, a[0], V_INT);
	case 'M': return (rc = need(m, 2, &a)) ? rc : op_int(m, qk_ld16(a), V_INT);
	case 0x8a: return op_long1(m, at);
	case 'G': return (rc = need(m, 8, &a)) ? rc : push_new(m, V_FLOAT, NULL);
	case 'X':
		if ((rc = need(m, 4, &a)))
			return rc;
		return op_string(m, qk_ld32(a));
	case 'U': return (rc = need(m, 1, &a)) ? rc : op_string(m, a[0]);
	default: return refuse_op(m, at, op);
	}
}

/* the value left at STOP: a dict of names to tensors */
static int result(struct vm *m, struct pt_dict *d)
{
	const struct val *r;
	uint32_t v;

	if (m->ns != 1 || m->nm)
		return fail(m, m->pos, "STOP with other values or MARKs left", NULL);
	v = m->stack[0];
	r = &m->v[v];
	if (r->kind != V_DICT)
		return fail(m, m->pos, "the checkpoint holds ", vkind_name[r->kind]);
	d->t = calloc(r->n / 2 ? r->n / 2 : 1, sizeof(*d->t));
	if (!d->t)
		return oom(m);
	for (uint32_t k = 0; k + 1 < r->n; k += 2) {
		const struct val *key = &m->v[r->items[k]], *val = &m->v[r->items[k + 1]];

		if (key->kind != V_STR)
			return fail(m, m->pos, "a state dict key is ", vkind_name[key->kind]);
		if (val->kind != V_TENSOR)
			return qk_err_set(m->err, QK_E_UNSUPPORTED,
					  "%s: entry '%.*s' of the state dict is %s, not a tensor",
					  m->file, (int)(key->slen < 200 ? key->slen : 200), key->s,
					  vkind_name[val->kind]);
		d->t[d->n] = m->tensors[val->tensor];
		d->t[d->n].name = key->s;
		d->t[d->n].name_len = key->slen;
		d->n++;
	}
	return QK_OK;
}

int pt_unpickle(const uint8_t *pkl, size_t n, const char *file, struct pt_dict *d, qk_err *err)
{
	struct vm m;
	bool done = false;
	int rc = QK_OK;

	memset(&m, 0, sizeof(m));
	memset(d, 0, sizeof(*d));
	m.p = pkl;
	m.n = n;
	m.file = file;
	m.err = err;
	while (!done && !rc)
		rc = step(&m, &done);
	if (!rc)
		rc = result(&m, d);
	for (uint32_t i = 0; i < m.nv; i++)
		free(m.v[i].items);
	free(m.v);
	free(m.stack);
	free(m.marks);
	free(m.memo);
	free(m.tensors);
	if (rc)
		pt_dict_free(d);
	return rc;
}

void pt_dict_free(struct pt_dict *d)
{
	if (!d)
		return;
	free(d->t);
	memset(d, 0, sizeof(*d));
}
