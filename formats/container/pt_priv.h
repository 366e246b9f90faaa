/* pt_priv.h - what the pt_*.c files share; not a public API. */
#ifndef QK_PT_PRIV_H
#define QK_PT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "pt.h"

/* One zip entry; name and data point into the archive's bytes. */
struct pt_entry {
	const char *name;     /* not NUL-terminated */
	size_t name_len;
	uint64_t off, size;   /* the data: [off, off + size) of the archive */
	uint16_t method;      /* 0: stored */
	uint16_t flags;       /* general purpose flags (bit 0: encrypted) */
	uint32_t crc;         /* CRC-32 of the (uncompressed) data, from the directory */
};

struct pt_zip {
	size_t n;
	struct pt_entry *e;   /* [n] in central-directory order */
};

/* The central directory of a zip archive (zip64 included), every entry's
 * data checked to lie inside it. */
int pt_zip_read(const uint8_t *data, size_t size, const char *file, struct pt_zip *z,
		qk_err *err);
void pt_zip_free(struct pt_zip *z);

/* One tensor of the unpickled state dict. */
struct pt_tensor {
	const char *name;     /* into data.pkl, not NUL-terminated */
	size_t name_len;
	const char *key;      /* storage key ("0", "1", ...), into data.pkl */
	size_t key_len;
	int dtype;            /* enum qk_dtype */
	uint64_t numel;       /* the storage's elements (its persistent id) */
	uint64_t offset;      /* first element in the storage */
	int n_dims;
	uint64_t shape[QK_MAX_DIMS];
};

struct pt_dict {
	size_t n;
	struct pt_tensor *t;  /* [n] in pickle order */
};

/* Run the restricted unpickler over data.pkl (pkl, n bytes); `file` names
 * it in messages. */
int pt_unpickle(const uint8_t *pkl, size_t n, const char *file, struct pt_dict *d, qk_err *err);
void pt_dict_free(struct pt_dict *d);

#endif
