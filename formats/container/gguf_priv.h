/* gguf_priv.h - the parsed GGUF file, shared by gguf.c (parser) and
 * gguf_get.c (accessors, catalog). Not part of the API: use gguf.h. */
#ifndef QK_GGUF_PRIV_H
#define QK_GGUF_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "../base/hmap.h"
#include "../base/io.h"

struct gf_str {
	uint64_t off; /* into the arena */
	uint64_t len; /* bytes, without the NUL the arena adds */
};

struct gf_kv {
	uint32_t key;   /* string index */
	uint8_t type;   /* enum gf_type */
	uint8_t elem;   /* element type of an array */
	uint64_t at;    /* file offset of the value, for messages */
	uint64_t n;     /* array: element count */
	uint64_t v;     /* scalar: the stored bits, zero-extended; string: string
			 * index; string array: index of element 0; other
			 * arrays: file offset of element 0 */
};

struct gf_tensor {
	uint32_t name;              /* string index */
	int type;                   /* ggml type id */
	int n_dims;                 /* 1..4 */
	int64_t ne[GF_MAX_DIMS];    /* ggml order, unused dims 1 */
	uint64_t n_elem;
	uint64_t offset;            /* from the data section start */
	uint64_t size;              /* bytes, unpadded */
};

struct gf_file {
	char *name;
	qk_map map;                 /* owned when gf_open mapped it */
	const uint8_t *data;        /* the file bytes */
	size_t size;
	uint32_t version;
	uint32_t alignment;
	uint64_t data_start;        /* file offset of the data section */
	char *arena;                /* NUL-terminated strings */
	size_t arena_n, arena_cap;
	struct gf_str *strs;
	size_t n_strs, cap_strs;
	struct gf_kv *kvs;          /* [n_kv] */
	int64_t n_kv;
	struct gf_tensor *tensors;  /* [n_tensors] */
	int64_t n_tensors;
	struct qk_hmap keys;        /* key -> kv index */
	struct qk_hmap names;       /* tensor name -> tensor index */
};

/* Bytes of one stored scalar of each type (0: string, array). */
extern const uint8_t gf_type_sizes_[GF_TYPE_COUNT];

static inline const char *gf_str_at_(const struct gf_file *f, uint32_t s)
{
	return f->arena + f->strs[s].off;
}


#endif
