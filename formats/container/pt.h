/* pt.h - PyTorch checkpoints (pytorch_model.bin), read without running
 * anything.
 *
 * torch.save (PyTorch >= 1.6) writes a zip archive (stored, uncompressed
 * entries):
 *   <name>/data.pkl      a pickle (protocol 2) of the state dict
 *   <name>/data/<key>    the raw little-endian bytes of storage <key>
 *   <name>/byteorder     "little" (newer writers), <name>/version, ...
 * The pickle is read by a restricted machine that accepts only what
 * torch.load(weights_only=True) accepts (torch/_weights_only_unpickler.py,
 * torch 2.15), narrowed to what a state dict needs: the opcodes PROTO, STOP,
 * MARK, GLOBAL, REDUCE, BUILD, BINPERSID, BINGET/LONG_BINGET, BINPUT/
 * LONG_BINPUT, the tuple, list, dict, int, float, string and bool opcodes;
 * the globals collections.OrderedDict, torch._utils._rebuild_tensor_v2,
 * torch._utils._rebuild_parameter and torch.<Type>Storage; persistent ids
 * ('storage', torch.<Type>Storage, key, location, numel). Nothing is ever
 * called or imported: each global is a name in a table, each REDUCE builds
 * a value of ours. Every other opcode or global is refused naming it and
 * its byte offset in data.pkl.
 *
 * The result must be a dict of tensor names to contiguous tensors; each
 * becomes a catalog tensor pointing into the file's mapping (the storage's
 * bytes, from the element offset _rebuild_tensor_v2 gives).
 *
 * The legacy (pre-1.6, non-zip) format is refused with a message, as are
 * compressed or encrypted entries, big-endian archives and storages that
 * their entry does not hold. Every stored entry's CRC-32 is checked when
 * the file is opened, after the pickle has been read (one pass over the
 * file, a chunk resident at a time; a damaged entry is QK_E_INVALID naming
 * it, the pickle's own errors come first); the tensors are then read in
 * place, never copied.
 *
 * Errors: QK_E_INVALID naming the file (and entry, offset or tensor),
 * QK_E_UNSUPPORTED for well-formed inputs not read (legacy format, a
 * dtype without a safetensors twin, a non-contiguous tensor), QK_E_NOMEM,
 * QK_E_IO.
 */
#ifndef QK_PT_H
#define QK_PT_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "catalog.h"

#define PT_MAX_ENTRIES 1000000u  /* zip entries */
#define PT_MAX_VALUES 50000000u  /* pickle values */
#define PT_MAX_MEMO (1u << 24)   /* pickle memo slots */
#define PT_MAX_DEPTH 100000u     /* pickle stack and MARK depth */

/* Add the tensors of the .bin file `path` to cat (its mapping becomes a
 * catalog file). On failure the catalog is as it was. */
int pt_open(struct qk_catalog *cat, const char *path, qk_err *err);

/* The same on bytes already mapped as catalog file `file` (data, size);
 * `name` is used in messages. (The fuzz target's entry point.) */
int pt_parse(struct qk_catalog *cat, int file, const uint8_t *data, size_t size,
	     const char *name, qk_err *err);

#endif
