/* qwen-inspect.c - temporary stub; replaced by the real tool. */
#include "common.h"

int main(int argc, char **argv)
{
	cli_prog = "qwen-inspect";
	return cli_not_implemented("qwen-inspect", argc, argv);
}
