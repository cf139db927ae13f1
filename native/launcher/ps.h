#ifndef SKIFF_LAUNCHER_PS_H
#define SKIFF_LAUNCHER_PS_H

/* `skiff ps` without Node (the arguments after the command word at `index`; the store in `data`,
   the runtime dir `runroot`): its exit code, or -1 (and nothing printed) where Node must answer.  */
int fast_ps (int argc, char **argv, int index, const char *runroot, const char *data);

#endif
