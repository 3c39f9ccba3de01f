/* One function per subcommand: `tokattr NAME ARGS...` calls
 * tk_cmd_NAME(argc, argv) with argv[0] = NAME. Each returns the process
 * exit status (0 success, 1 failure, 2 usage error, 3 stopped but resumable). */
#ifndef TOKATTR_CLI_COMMANDS_H
#define TOKATTR_CLI_COMMANDS_H

enum { TK_EXIT_OK = 0, TK_EXIT_FAILURE = 1, TK_EXIT_USAGE = 2, TK_EXIT_RESUMABLE = 3 };

/* Declarations, one per command (keep in the order of main.c's table). */
int tk_cmd_prepare(int argc, char **argv);
int tk_cmd_train(int argc, char **argv);
int tk_cmd_evaluate(int argc, char **argv);
int tk_cmd_run(int argc, char **argv);
int tk_cmd_report(int argc, char **argv);
int tk_cmd_explain(int argc, char **argv);
int tk_cmd_inspect(int argc, char **argv);
int tk_cmd_tokenize(int argc, char **argv);
int tk_cmd_export(int argc, char **argv);

#endif
