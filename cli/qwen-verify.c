/* qwen-verify.c - placeholder until its issue lands: prints "not yet
 * implemented" and exits 2. */
#include "common.h"

int main(int argc, char **argv)
{
	cli_prog = "qwen-verify";
	return cli_not_implemented("qwen-verify", argc, argv);
}
