/* qwen-quant.c - placeholder until its issue lands: prints "not yet
 * implemented" and exits 2. */
#include "common.h"

int main(int argc, char **argv)
{
	cli_prog = "qwen-quant";
	return cli_not_implemented("qwen-quant", argc, argv);
}
