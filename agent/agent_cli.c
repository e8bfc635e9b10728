/* The static synfin-agent binary: a VM's /init, or `synfin-agent ARGS` beside a stack. */
#include "agent.h"

int main(int argc, char **argv)
{
	return sfa_main(argc, argv);
}
