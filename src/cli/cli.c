/* SPDX-License-Identifier: MIT */
/*
 * cli.c: the `commune` command-line dispatcher (everything but `serve`).
 * Parses `commune FAMILY [VERB] ARGS... [OPTIONS]` against the command
 * tables of cli-<family>.c, prints help, opens the store and runs the
 * command; maps store errors to exit statuses. In cli, above store.
 *
 * Options may stand anywhere on the line, as `--opt VALUE` or
 * `--opt=VALUE`; `--` ends them (a trailing `--base DIR` pair is still
 * honoured after it). Only words starting with "--", and -h, are
 * options, so "-\Flagged" is an ordinary argument.
 */
#include "cli-private.h"
#include "log.h"
#include "vfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLI_DEFAULT_BASE "./var"
#define CLI_BASE_ENV "COMMUNE_BASE"
/* A secret read from stdin (account password NAME -). */
#define CLI_SECRET_MAX 1024

static const struct cli_family *const families[] = {
	&cli_family_domain,
	&cli_family_account,
	&cli_family_mailbox,
	&cli_family_message,
	&cli_family_deliver,
	&cli_family_import,
	&cli_family_export,
	&cli_family_check,
	&cli_family_reindex,
};

struct cli_option {
	const char *name;
	int opt;                /* enum cli_opt, or -1 for --base */
	bool has_value;
};

static const struct cli_option options[] = {
	{ "base", -1, true },
	{ "password", CLI_OPT_PASSWORD, true },
	{ "type", CLI_OPT_TYPE, true },
	{ "format", CLI_OPT_FORMAT, true },
	{ "class", CLI_OPT_CLASS, true },
	{ "mailbox", CLI_OPT_MAILBOX, true },
	{ "flags", CLI_OPT_FLAGS, true },
	{ "from", CLI_OPT_FROM, true },
	{ "force", CLI_OPT_FORCE, false },
	{ "storage", CLI_OPT_STORAGE, true },
	{ "messages", CLI_OPT_MESSAGES, true },
};

static const char common_help[] =
	"Options for every command:\n"
	"  --base DIR   base directory (default $" CLI_BASE_ENV
	", else " CLI_DEFAULT_BASE ")\n"
	"  --help       show usage\n"
	"Exit status: 0 done; 1 refused or failed (nothing was changed);\n"
	"  2 usage error; 75 temporary failure (I/O error, disk full,\n"
	"  over quota): retry later.\n";

/* ------------------------------------------------------------------ */
/* Errors and output                                                   */
/* ------------------------------------------------------------------ */

static void ATTR_FORMAT(1, 0)
print_error(const char *fmt, va_list args)
{
	fputs("commune: ", stderr);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}

int
cli_error(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	print_error(fmt, args);
	va_end(args);
	return CLI_EXIT_FAIL;
}

static void
print_command_usage(FILE *out, const char *family,
		    const struct cli_command *cmd)
{
	fprintf(out, "commune %s%s%s%s%s\n", family,
		cmd->verb != NULL ? " " : "",
		cmd->verb != NULL ? cmd->verb : "",
		cmd->synopsis[0] != '\0' ? " " : "", cmd->synopsis);
}

int
cli_usage_error(struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	print_error(fmt, args);
	va_end(args);
	if (ctx != NULL && ctx->cmd != NULL) {
		fputs("usage: ", stderr);
		print_command_usage(stderr, ctx->family, ctx->cmd);
	}
	return CLI_EXIT_USAGE;
}

int
cli_exit_status(enum store_error code)
{
	switch (code) {
	case STORE_ERROR_TEMP:
	case STORE_ERROR_NOSPACE:
	case STORE_ERROR_OVERQUOTA:
		return CLI_EXIT_TEMPFAIL;
	default:
		return CLI_EXIT_FAIL;
	}
}

int
cli_store_error(void)
{
	const char *text;
	enum store_error code = store_error(&text);

	if (text == NULL || text[0] == '\0')
		text = "internal error";
	fprintf(stderr, "commune: %s\n", text);
	return cli_exit_status(code);
}

int
cli_result(int ret)
{
	return ret == -1 ? cli_store_error() : CLI_EXIT_OK;
}

int
cli_print_names(int ret, char **names, unsigned int count)
{
	unsigned int i;

	if (ret == -1)
		return cli_store_error();
	for (i = 0; i < count; i++)
		printf("%s\n", names[i]);
	store_names_free(&names, count);
	return CLI_EXIT_OK;
}

int
cli_store_open(struct cli_ctx *ctx)
{
	if (ctx->store == NULL && store_open(ctx->base_dir, &ctx->store) == -1)
		return cli_store_error();
	return 0;
}

int
cli_account_open(struct cli_ctx *ctx, const char *name,
		 struct account **account_r)
{
	int ret;

	if ((ret = cli_store_open(ctx)) != 0)
		return ret;
	if (store_account_open(ctx->store, name, account_r) == -1)
		return cli_store_error();
	return 0;
}

int
cli_mailbox_open(struct account *account, const char *name,
		 struct mailbox **box_r)
{
	if (store_mailbox_open(account, name, box_r) == -1)
		return cli_store_error();
	return 0;
}

int
cli_parse_uid(struct cli_ctx *ctx, const char *text, uint32_t *uid_r)
{
	unsigned long long n = 0;
	const char *p;

	for (p = text; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned)(*p - '0');
		if (n > UINT32_MAX)
			break;
	}
	if (p == text || *p != '\0' || n == 0 || n > UINT32_MAX)
		return cli_usage_error(ctx, "invalid UID");
	*uid_r = (uint32_t)n;
	return 0;
}

void
cli_append_printable(buf_t *out, const unsigned char *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = text[i];

		if (c < 0x20 || c == 0x7f) {
			buf_append_c(out, '?');
		} else if (c == 0xc2 && i + 1 < len && text[i + 1] >= 0x80 &&
			   text[i + 1] <= 0x9f) {
			/* U+0080..U+009F, the C1 controls. */
			buf_append_c(out, '?');
			i++;
		} else {
			buf_append_c(out, (char)c);
		}
	}
}

int
cli_write_stdout(const void *data, size_t len)
{
	const unsigned char *p = data;

	if (fflush(stdout) != 0)
		return cli_error("write to standard output: %s",
				 strerror(errno));
	while (len > 0) {
		ssize_t ret = write(STDOUT_FILENO, p, len);

		if (ret == -1 && errno == EINTR)
			continue;
		if (ret == -1)
			return cli_error("write to standard output: %s",
					 strerror(errno));
		p += ret;
		len -= (size_t)ret;
	}
	return 0;
}

char *
cli_read_secret(const char *value)
{
	char line[CLI_SECRET_MAX + 2];
	size_t len;

	if (strcmp(value, "-") != 0)
		return i_strdup(value);
	if (fgets(line, sizeof(line), stdin) == NULL) {
		cli_error("no password on standard input");
		return NULL;
	}
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	else if (len > CLI_SECRET_MAX) {
		explicit_bzero(line, sizeof(line));
		cli_error("password longer than %d bytes", CLI_SECRET_MAX);
		return NULL;
	}
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	value = i_strdup(line);
	explicit_bzero(line, sizeof(line));
	return (char *)value;
}

/* ------------------------------------------------------------------ */
/* Help                                                                */
/* ------------------------------------------------------------------ */

static void
print_family_usage(FILE *out, const struct cli_family *family)
{
	unsigned int i;

	for (i = 0; i < family->count; i++) {
		fputs("  ", out);
		print_command_usage(out, family->name, &family->commands[i]);
	}
}

static void
print_help(FILE *out)
{
	unsigned int i;

	fputs("usage: commune COMMAND [ARGS...] [--base DIR]\n"
	      "       commune serve --base DIR --listen PROTO=ADDR:PORT ...\n"
	      "Commands:\n", out);
	for (i = 0; i < N_ELEMENTS(families); i++)
		print_family_usage(out, families[i]);
	fputs("Run `commune COMMAND --help` for more about one.\n", out);
	fputs(common_help, out);
}

static void
print_command_help(FILE *out, const char *family,
		   const struct cli_command *cmd)
{
	fputs("usage: ", out);
	print_command_usage(out, family, cmd);
	fputs(cmd->help, out);
	fputs(common_help, out);
}

/* ------------------------------------------------------------------ */
/* Command-line parsing                                                */
/* ------------------------------------------------------------------ */

struct parsed_line {
	char **words;
	unsigned int word_count;
	const char *base;
	bool help;
	const char *opts[CLI_OPT_COUNT];
	/* First option not known at all, for the error message. */
	const char *bad_option;
};

static const struct cli_option *
option_find(const char *arg, const char **value_r)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	unsigned int i;

	*value_r = eq != NULL ? eq + 1 : NULL;
	for (i = 0; i < N_ELEMENTS(options); i++) {
		if (strlen(options[i].name) == len &&
		    strncmp(options[i].name, name, len) == 0)
			return &options[i];
	}
	return NULL;
}

/*
 * Splits argv into words and options. Returns 0, or the usage exit status
 * after printing why (an option missing its value, given twice...).
 */
static int
parse_line(int argc, char **argv, struct parsed_line *line)
{
	const struct cli_option *opt;
	const char *value;
	bool options_end = false;
	int i;

	line->words = i_malloc(((size_t)argc + 1) * sizeof(char *));
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (options_end && !(i == argc - 2 &&
				     strcmp(arg, "--base") == 0)) {
			line->words[line->word_count++] = argv[i];
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			options_end = true;
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			line->help = true;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0) {
			line->words[line->word_count++] = argv[i];
			continue;
		}
		opt = option_find(arg, &value);
		if (opt == NULL) {
			if (line->bad_option == NULL)
				line->bad_option = arg;
			continue;
		}
		if (!opt->has_value) {
			if (value != NULL)
				return cli_usage_error(NULL,
					"option --%s takes no value",
					opt->name);
			value = "";
		} else if (value == NULL) {
			if (i + 1 >= argc)
				return cli_usage_error(NULL,
					"option --%s needs a value",
					opt->name);
			value = argv[++i];
		}
		if (opt->opt < 0) {
			line->base = value;
		} else if (line->opts[opt->opt] != NULL) {
			return cli_usage_error(NULL,
				"option --%s given twice", opt->name);
		} else {
			line->opts[opt->opt] = value;
		}
	}
	return 0;
}

static const struct cli_family *
family_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(families); i++) {
		if (strcmp(families[i]->name, name) == 0)
			return families[i];
	}
	return NULL;
}

static const struct cli_command *
command_find(const struct cli_family *family, const char *verb)
{
	unsigned int i;

	for (i = 0; i < family->count; i++) {
		const char *v = family->commands[i].verb;

		if (v == NULL || (verb != NULL && strcmp(v, verb) == 0))
			return &family->commands[i];
	}
	return NULL;
}

static const char *
option_name(unsigned int opt)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(options); i++) {
		if (options[i].opt == (int)opt)
			return options[i].name;
	}
	i_panic("option %u has no name", opt);
}

/* Checks the options and argument count against the command. */
static int
check_command(struct cli_ctx *ctx, const struct parsed_line *line)
{
	unsigned int i;

	if (line->bad_option != NULL)
		return cli_usage_error(ctx, "unknown option %s",
				       line->bad_option);
	for (i = 0; i < CLI_OPT_COUNT; i++) {
		if (line->opts[i] == NULL)
			continue;
		if ((ctx->cmd->options & CLI_OPT_BIT(i)) == 0)
			return cli_usage_error(ctx, "option --%s does not "
					       "apply here", option_name(i));
		ctx->opts[i] = line->opts[i];
	}
	if (ctx->arg_count < ctx->cmd->min_args)
		return cli_usage_error(ctx, "missing arguments");
	if (ctx->arg_count > ctx->cmd->max_args)
		return cli_usage_error(ctx, "too many arguments");
	return 0;
}

/*
 * Finds the command the words name, printing help when asked. Returns
 * -1 to go on and run ctx->cmd, else the exit status.
 */
static int
resolve(struct cli_ctx *ctx, struct parsed_line *line)
{
	const struct cli_family *family;
	const char *verb;
	unsigned int skip;

	if (line->word_count > 0 && strcmp(line->words[0], "help") == 0) {
		line->help = true;
		line->words++;
		line->word_count--;
	}
	if (line->word_count == 0) {
		print_help(line->help ? stdout : stderr);
		return line->help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	family = family_find(line->words[0]);
	if (family == NULL)
		return cli_usage_error(NULL, "unknown command '%s' "
				       "(try commune --help)", line->words[0]);
	ctx->family = family->name;
	verb = line->word_count > 1 ? line->words[1] : NULL;
	ctx->cmd = command_find(family, verb);
	if (ctx->cmd == NULL) {
		if (line->help && verb == NULL) {
			fputs("usage:\n", stdout);
			print_family_usage(stdout, family);
			fputs(common_help, stdout);
			return CLI_EXIT_OK;
		}
		fprintf(stderr, verb == NULL ? "commune: %s needs a verb\n" :
			"commune: unknown %s verb\n", family->name);
		fputs("usage:\n", stderr);
		print_family_usage(stderr, family);
		return CLI_EXIT_USAGE;
	}
	if (line->help) {
		print_command_help(stdout, family->name, ctx->cmd);
		return CLI_EXIT_OK;
	}
	skip = ctx->cmd->verb != NULL ? 2 : 1;
	ctx->args = line->words + skip;
	ctx->arg_count = line->word_count - skip;
	return -1;
}

int
cli_main(int argc, char **argv)
{
	struct parsed_line line;
	struct cli_ctx ctx;
	char **words;
	int ret;

	memset(&line, 0, sizeof(line));
	memset(&ctx, 0, sizeof(ctx));
	log_init("commune", LOG_LEVEL_ERROR);
	vfs_init();

	ret = parse_line(argc, argv, &line);
	words = line.words;
	if (ret != 0)
		goto out;
	/* -1: a command to run; else help was printed or a usage error. */
	if ((ret = resolve(&ctx, &line)) != -1)
		goto out;
	if ((ret = check_command(&ctx, &line)) != 0)
		goto out;

	ctx.base_dir = line.base;
	if (ctx.base_dir == NULL)
		ctx.base_dir = getenv(CLI_BASE_ENV);
	if (ctx.base_dir == NULL || ctx.base_dir[0] == '\0')
		ctx.base_dir = CLI_DEFAULT_BASE;
	ret = ctx.cmd->run(&ctx);
	store_close(&ctx.store);
out:
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "commune: write to standard output failed\n");
		if (ret == CLI_EXIT_OK)
			ret = CLI_EXIT_FAIL;
	}
	free(words);
	return ret;
}
