/* sipscope: entry point and subcommand dispatch. cli/ owns stdout. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sipscope_config.h"

static const char usage[] =
    "sipscope " SIPSCOPE_VERSION " - passive SIP/RTP analyzer\n"
    "\n"
    "Usage: sipscope COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Commands:\n"
    "  analyze FILE...   read pcap/pcapng files (\"-\" for stdin), merged in time order,\n"
    "                    and report what they hold (text, or JSON with --json)\n"
    "  capture -i IFACE   follow live interfaces, with the same outputs as analyze\n"
    "  ladder FILE... CALL  draw one call's message ladder in the terminal\n"
    "  tui FILE... | tui -i IFACE\n"
    "                    the calls in a terminal UI: list, ladder, streams, issues\n"
    "  export --db FILE --call ID -o OUT.pcap\n"
    "                    write a stored call's SIP frames (and media) as a pcap\n"
    "  serve --db FILE   serve the JSON API over HTTP from a database\n"
    "  help              this text\n"
    "  version           print the version\n"
    "\n"
    "Run 'sipscope COMMAND --help' for the options of a command.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "analyze"))
        return cmd_analyze(argc - 1, argv + 1);
    if (!strcmp(cmd, "capture"))
        return cmd_capture(argc - 1, argv + 1);
    if (!strcmp(cmd, "ladder"))
        return cmd_ladder(argc - 1, argv + 1);
    if (!strcmp(cmd, "tui")) return cmd_tui(argc - 1, argv + 1);
    if (!strcmp(cmd, "export"))
        return cmd_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve"))
        return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        puts("sipscope " SIPSCOPE_VERSION);
        return 0;
    }
    fprintf(stderr, "sipscope: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
