/* pt_cases.c - hostile and broken PyTorch checkpoints (.bin) for
 * formats/container/pt.h: zip archives written with libzip around pickles
 * assembled here opcode by opcode (pickletools' names in the comments). */
#include "corrupt.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

/* one storage '0' of two F32 values */
static const float two[2] = { 1.0f, 2.0f };

/* write archive/data.pkl (pkl) and archive/data/0 (data) with libzip,
 * stored; cut the file at `keep` bytes when keep > 0 */
static int write_bin(const char *path, const void *pkl, size_t pkl_len, const void *data,
		     size_t data_len, long keep)
{
	int zerr = 0;
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	zip_source_t *s1, *s2;
	zip_int64_t i1, i2;

	if (!z)
		return -1;
	s1 = zip_source_buffer(z, pkl, pkl_len, 0);
	s2 = zip_source_buffer(z, data, data_len, 0);
	i1 = s1 ? zip_file_add(z, "archive/data.pkl", s1, ZIP_FL_OVERWRITE) : -1;
	i2 = s2 ? zip_file_add(z, "archive/data/0", s2, ZIP_FL_OVERWRITE) : -1;
	if (i1 < 0 || i2 < 0 || zip_set_file_compression(z, (zip_uint64_t)i1, ZIP_CM_STORE, 0) ||
	    zip_set_file_compression(z, (zip_uint64_t)i2, ZIP_CM_STORE, 0) || zip_close(z)) {
		zip_discard(z);
		return -1;
	}
	if (keep > 0) {
		FILE *f = fopen(path, "r+b");
		int rc;

		if (!f)
			return -1;
		rc = ftruncate(fileno(f), keep);
		fclose(f);
		return rc;
	}
	return 0;
}

/* pickle pieces (each hex escape ends its literal: "\x00" "0", never
 * "\x000") */
#define PROTO2 "\x80\x02"
#define ODICT "ccollections\nOrderedDict\n)R" /* GLOBAL, EMPTY_TUPLE, REDUCE */
#define REBUILD "ctorch._utils\n_rebuild_tensor_v2\n"
#define USTR(len, s) "X" len "\x00\x00\x00" s /* BINUNICODE */
#define PID(numel) "(" USTR("\x07", "storage") "ctorch\nFloatStorage\n" USTR("\x01", "0") \
	USTR("\x03", "cpu") numel "tQ" /* MARK ... TUPLE, BINPERSID */
/* {'w': tensor(storage, offset 0, size (2,), stride (stride,))} */
#define DICT(numel, stride) PROTO2 ODICT "(" USTR("\x01", "w") REBUILD "(" PID(numel) \
	"K\x00" "K\x02" "\x85" stride "\x89" ODICT "tRu."

static const char good[] = DICT("K\x02", "K\x01" "\x85");

static int pt_os_system(const char *path)
{
	/* the classic: GLOBAL os.system, a command string, TUPLE1, REDUCE */
	static const char p[] = PROTO2 "cos\nsystem\n" USTR("\x0b", "touch /tmp/x") "\x85" "R.";

	return write_bin(path, p, sizeof(p) - 1, two, sizeof(two), 0);
}

static int pt_builtins_eval(const char *path)
{
	static const char p[] = PROTO2 "cbuiltins\neval\n" USTR("\x01", "1") "\x85" "R.";

	return write_bin(path, p, sizeof(p) - 1, two, sizeof(two), 0);
}

static int pt_stack_global(const char *path)
{
	/* STACK_GLOBAL (0x93) takes module and name from the stack */
	static const char p[] = PROTO2 USTR("\x02", "os") USTR("\x06", "system") "\x93" ".";

	return write_bin(path, p, sizeof(p) - 1, two, sizeof(two), 0);
}

static int pt_inst(const char *path)
{
	static const char p[] = PROTO2 "(ios\nsystem\n.";

	return write_bin(path, p, sizeof(p) - 1, two, sizeof(two), 0);
}

static int pt_oversized(const char *path)
{
	/* the persistent id claims 1000000 F32 elements; the entry has 8 bytes */
	static const char p[] = DICT("J\x40" "\x42" "\x0f" "\x00", "K\x01" "\x85");

	return write_bin(path, p, sizeof(p) - 1, two, sizeof(two), 0);
}

static int pt_strided(const char *path)
{
	static const char p[] = DICT("K\x02", "K\x02" "\x85");

	return write_bin(path, p, sizeof(p) - 1, two, sizeof(two), 0);
}

static int pt_truncated(const char *path)
{
	return write_bin(path, good, sizeof(good) - 1, two, sizeof(two), 60);
}

static int pt_bad_crc(const char *path)
{
	/* a good archive with one bit of storage '0' flipped (2.0f becomes
	 * 2.0000002f): every offset and size still holds, only the CRC-32 of
	 * the entry tells */
	static const unsigned char want[4] = { 0x00, 0x00, 0x00, 0x40 }; /* 2.0f */
	unsigned char buf[4096];
	size_t n;
	FILE *f;
	int rc = -1;

	if (write_bin(path, good, sizeof(good) - 1, two, sizeof(two), 0) || !(f = fopen(path, "r+b")))
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	for (size_t i = 0; i + 4 <= n; i++)
		if (memcmp(buf + i, want, 4) == 0 && i >= 4 && memcmp(buf + i - 4, two, 4) == 0) {
			rc = fseek(f, (long)i, SEEK_SET) || fputc(0x01, f) == EOF ? -1 : 0;
			break;
		}
	return fclose(f) || rc ? -1 : 0;
}

static int pt_legacy(const char *path)
{
	/* pre-1.6 torch.save: a bare pickle starting with the magic number */
	static const char p[] = PROTO2 "\x8a" "\x0a" "\x6c" "\xfc" "\x9c" "\x46" "\xf9" "\x20" "\x6a"
		"\xa8" "\x50" "\x19" ".";

	return cc_write(path, p, sizeof(p) - 1);
}

static int pt_no_stop(const char *path)
{
	static const char p[] = PROTO2 ODICT;

	return write_bin(path, p, sizeof(p) - 1, two, sizeof(two), 0);
}

static int pt_not_dict(const char *path)
{
	static const char p[] = PROTO2 "]."; /* EMPTY_LIST, STOP */

	return write_bin(path, p, sizeof(p) - 1, two, sizeof(two), 0);
}

static int pt_memo_get(const char *path)
{
	static const char p[] = PROTO2 "h\x07" "."; /* BINGET 7 of an empty memo */

	return write_bin(path, p, sizeof(p) - 1, two, sizeof(two), 0);
}

static const struct cc_case cases[] = {
	{ "pt_os_system", ".bin", 3,
	  "data.pkl offset 2: global 'os.system' refused: a state dict needs only", pt_os_system,
	  "a pickle that runs a command when torch.load(weights_only=False) reads it" },
	{ "pt_builtins_eval", ".bin", 3, "global 'builtins.eval' refused", pt_builtins_eval,
	  "eval through a GLOBAL" },
	{ "pt_stack_global", ".bin", 3, "opcode 0x93 (STACK_GLOBAL) refused", pt_stack_global,
	  "a global taken from the stack (protocol 4) instead of GLOBAL" },
	{ "pt_inst", ".bin", 3, "opcode 0x69 (INST) refused", pt_inst,
	  "INST builds and calls a class in one opcode" },
	{ "pt_oversized", ".bin", 3,
	  "storage '0' of tensor 'w' is 1000000 F32 elements, but its entry holds 8 bytes",
	  pt_oversized, "a storage larger than its zip entry: reading it would overrun" },
	{ "pt_strided", ".bin", 3, "a non-contiguous tensor (stride 2 in dimension 0", pt_strided,
	  "a view with strides; rows are read in place" },
	{ "pt_truncated", ".bin", 3, "not a valid zip archive", pt_truncated,
	  "an archive cut short (its end of central directory record is gone)" },
	{ "pt_bad_crc", ".bin", 3,
	  "has CRC-32 9683c213, its directory entry says 2e3fa576: the file is damaged", pt_bad_crc,
	  "one bit of a storage flipped: only the entry's CRC-32 shows it" },
	{ "pt_legacy", ".bin", 3, "the legacy (pre-1.6, non-zip) torch.save format is not read",
	  pt_legacy, "pre-1.6 files are a bare pickle stream with storages appended" },
	{ "pt_no_stop", ".bin", 3, "the pickle ends without STOP", pt_no_stop,
	  "a pickle cut short" },
	{ "pt_not_dict", ".bin", 3, "the checkpoint holds a list", pt_not_dict,
	  "a pickle that is not a state dict" },
	{ "pt_memo_get", ".bin", 3, "GET of an empty memo slot", pt_memo_get,
	  "a memo reference to nothing" },
};

const struct cc_table cc_pt_cases = { cases, sizeof(cases) / sizeof(cases[0]) };
