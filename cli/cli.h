/* Subcommands of the sipscope binary. */
#ifndef SIPSCOPE_CLI_H
#define SIPSCOPE_CLI_H

int cmd_analyze(int argc, char **argv);
int cmd_ladder(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_tui(int argc, char **argv);

#endif
