/* catalog.h - the tensors of one input, whatever its format.
 *
 * A catalog lists tensors: name, dtype, shape, and a pointer into a read-only
 * mapping of the file that holds them. Readers (safetensors.h, safetensors_index.h,
 * gguf.h) fill it; model assembly (model.h) binds its tensors to roles.
 *
 * Shapes are always in row-major order, slowest dimension first, as
 * safetensors and PyTorch write them: an nn.Linear weight is [out, in]. The
 * GGUF reader reverses ggml's ne[] into this order, so the same tensor has
 * the same shape from either file.
 *
 * Ownership: the catalog owns its tensors' names, the mappings of its files,
 * and (for GGUF inputs) the parsed GGUF file(s). Tensor data pointers stay
 * valid until qk_catalog_free.
 */
#ifndef QK_CATALOG_H
#define QK_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../base/hmap.h"
#include "../base/io.h"

#define QK_MAX_DIMS 8           /* rank limit (safetensors); GGUF allows 4 */
#define QK_MAX_TENSORS 1000000u /* tensors in one input */
#define QK_MAX_NAME 1024u       /* bytes in a tensor name */

enum qk_format { QK_FMT_NONE = 0, QK_FMT_SAFETENSORS, QK_FMT_GGUF };

struct qk_tensor {
	char *name;                   /* owned, NUL-terminated */
	int dtype;                    /* enum qk_dtype */
	int n_dims;                   /* 0..QK_MAX_DIMS */
	uint64_t shape[QK_MAX_DIMS];  /* row-major: shape[n_dims-1] is fastest */
	uint64_t n_elem;              /* product of shape (1 for rank 0) */
	uint64_t nbytes;              /* bytes of data */
	const uint8_t *data;          /* into files[file]; NULL if nbytes == 0 */
	uint64_t offset;              /* absolute offset of data in its file */
	int file;                     /* index into catalog files */
	/* pre-quantized storage (pq.h): the matrix this tensor stands for is
	 * read through pq; dtype, data and nbytes are those of its weight part */
	const struct pq_store *pq;    /* NULL: a plain tensor */
	bool pq_part;                 /* a part of a storage (scale, zero point,
				       * packed words): bound only through it */
};

struct gf_file; /* gguf.h */
struct pq_store; /* pq.h */

/* One string key/value of an input file's own metadata (a safetensors
 * "__metadata__" entry). */
struct qk_meta {
	int file;                     /* index into catalog files */
	char *key;                    /* owned, NUL-terminated */
	char *val;                    /* owned, NUL-terminated */
};

struct qk_catalog {
	int format;                   /* enum qk_format */
	char *path;                   /* what the user named (dir, file or index) */
	char *dir;                    /* directory holding config.json etc.; may be NULL */
	bool pytorch;                 /* QK_FMT_SAFETENSORS read from PyTorch .bin files (pt.h) */
	size_t n_files;
	qk_map *files;                /* [n_files] mappings */
	struct gf_file **gguf;        /* [n_files] parsed GGUF files, or NULL */
	/* how to close them: set by the GGUF reader that stores one (gguf.h),
	 * so that the catalog, below the readers, does not depend on them */
	void (*close_gguf)(struct gf_file *f);
	size_t n_tensors;
	struct qk_tensor *tensors;    /* [n_tensors] in file order */
	size_t n_meta;
	struct qk_meta *meta;         /* [n_meta] file metadata, in file order */
	size_t n_pq;
	struct pq_store **pq;         /* [n_pq] pre-quantized storages, owned */
	/* private */
	size_t cap_tensors;
	struct qk_hmap names;         /* tensor name -> index into tensors */
};

void qk_catalog_init(struct qk_catalog *cat);
void qk_catalog_free(struct qk_catalog *cat);

/* Add a mapping, taking ownership of *map (which is zeroed). Returns the file
 * index in *idx. */
int qk_catalog_add_file(struct qk_catalog *cat, qk_map *map, int *idx, qk_err *err);

/* Add a tensor; `name` (len bytes, need not be NUL-terminated) is copied.
 * Fails with QK_E_INVALID "duplicate tensor name" if the name is present, or
 * when QK_MAX_TENSORS would be exceeded. The caller fills the other fields of
 * the returned tensor (*out). */
int qk_catalog_add(struct qk_catalog *cat, const char *name, size_t len,
		   struct qk_tensor **out, qk_err *err);

/* Add a metadata key/value (both copied) for file index `file`. */
int qk_catalog_add_meta(struct qk_catalog *cat, int file, const char *key,
			const char *val, qk_err *err);
/* Value of `key` in file `file`'s metadata (file < 0: the first file that has
 * it); NULL if absent. Points into the catalog. */
const char *qk_catalog_meta(const struct qk_catalog *cat, int file, const char *key);

/* Rollback: a reader takes a mark before adding a file and, if the file turns
 * out to be bad, drops every file, tensor and metadata entry added since, so a
 * failed open leaves the catalog as it was. */
struct qk_catalog_mark {
	size_t n_files, n_tensors, n_meta;
};
void qk_catalog_mark(const struct qk_catalog *cat, struct qk_catalog_mark *m);
void qk_catalog_rollback(struct qk_catalog *cat, const struct qk_catalog_mark *m);

/* Find by exact name; NULL if absent. */
const struct qk_tensor *qk_catalog_find(const struct qk_catalog *cat, const char *name);
/* Index of a tensor by name, or -1. */
long qk_catalog_index(const struct qk_catalog *cat, const char *name);

/* "model.safetensors: " (the base name of t's file), else "<cat->path>: "
 * (t NULL or without a file), else "": the prefix of messages about t. */
void qk_catalog_where(const struct qk_catalog *cat, const struct qk_tensor *t, char *buf,
		      size_t n);

/* The input's container for listings: "gguf", "pytorch" (.bin files) or
 * "safetensors". */
const char *qk_catalog_container(const struct qk_catalog *cat);

/* "[4096, 11008]" into buf (always NUL-terminated). */
void qk_shape_str(const uint64_t *shape, int n_dims, char *buf, size_t size);

/* Open any supported input: a directory (model.safetensors.index.json,
 * model.safetensors, or the single *.safetensors / *.gguf it holds), a
 * .safetensors file, a shard index (.json), or a .gguf file. Sets cat->dir to
 * the directory that holds config.json/tokenizer files for safetensors
 * inputs. A safetensors input whose config.json has a "quantization_config"
 * gets its quantized matrices as storages (pq.h). */
int qk_catalog_open(struct qk_catalog *cat, const char *path, qk_err *err);

#endif
