/* SPDX-License-Identifier: MIT */
/*
 * daemon.c: `commune serve`: parses the command line, opens the store,
 * starts the worker pool and the libevent loop, binds every --listen
 * before serving, and stops gracefully on SIGTERM/SIGINT. Top of the DAG
 * (src/daemon may include every module).
 *
 * Graceful stop: the listeners close at once; each front-end is told to
 * shut down (idle sessions get their protocol's goodbye, sessions in the
 * middle of a delivery finish it and send its replies); the loop runs
 * until every session is gone and the worker pool is idle, or until the
 * shutdown timeout. A second signal stops at once. Exit status 0 either
 * way: what was not acknowledged was not promised.
 *
 * Connection limits (listener.c, connlimit.c): per protocol family a
 * total and a per-client-address cap, and beneath them one for all
 * families together that keeps connections within the open-files
 * limit, so a flood of clients is refused politely rather than making
 * accept() and the store's opens fail with EMFILE for everyone.
 */
#include "daemon.h"
#include "daemon-private.h"
#include "connlimit.h"
#include "worker.h"
#include "store.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <event2/util.h>

/* How often the stop timer checks whether the front-ends are done. */
#define DAEMON_STOP_POLL_MS 20
/* Descriptors kept back from connections for the store, the listeners
   and refusals: an eighth of the open-files limit, at least this. */
#define DAEMON_FD_RESERVE_MIN 256

static void
usage(FILE *out)
{
	fprintf(out,
"usage: commune serve [--base DIR] --listen PROTO=ADDR:PORT ...\n"
"                     [--workers N] [--log-level debug|info|warn]\n"
"                     [--max-message-size BYTES] [--idle-timeout SECS]\n"
"                     [--login-timeout SECS]\n"
"                     [--shutdown-timeout SECS] [--pidfile PATH]\n"
"                     [--tls-cert FILE --tls-key FILE] [--allow-plaintext-auth]\n"
"                     [--max-connections [PROTO=]N]\n"
"                     [--max-connections-per-ip [PROTO=]N] [--limit-loopback]\n"
"       commune serve --protocols\n"
"\n"
"  --base DIR            base directory (default $COMMUNE_BASE, else ./var)\n"
"  --listen P=ADDR:PORT  listen for protocol P (repeatable); ADDR is an\n"
"                        IPv4 address, [IPv6], * or localhost; port 0\n"
"                        picks a free port (printed on stderr)\n"
"  --workers N           threads for store work (default: 2 per CPU, 4..64)\n"
"  --log-level L         debug, info (default) or warn\n"
"  --max-message-size B  largest message accepted (K, M, G suffixes)\n"
"  --idle-timeout SECS   close sessions idle this long (protocol default)\n"
"  --login-timeout SECS  close IMAP connections idle this long before\n"
"                        they log in (default 180)\n"
"  --shutdown-timeout S  on SIGTERM, wait this long for deliveries (30)\n"
"  --pidfile PATH        write the process id there while running\n"
"  --tls-cert FILE       TLS certificate chain, PEM (default\n"
"                        BASE/Settings/server.crt when it exists)\n"
"  --tls-key FILE        its private key, PEM (default\n"
"                        BASE/Settings/server.key)\n"
"  --allow-plaintext-auth  accept passwords before TLS (USER/PASS,\n"
"                        AUTH PLAIN/LOGIN); for loopback and tests\n"
"  --max-connections [P=]N  concurrent connections per protocol (imap and\n"
"                        imaps count together, so do pop3 and pop3s), for\n"
"                        protocol P or all; 0: no limit (default %u)\n"
"  --max-connections-per-ip [P=]N  the same from one client address (IPv4\n"
"                        address or IPv6 /64); 0: no limit (default %u)\n"
"  --limit-loopback      apply --max-connections-per-ip to loopback\n"
"                        clients too (by default they are exempt)\n"
"  --protocols           list the protocols --listen knows and exit\n",
		DAEMON_MAX_CONNECTIONS_DEFAULT, DAEMON_MAX_PER_IP_DEFAULT);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- options ---- */

/* Decimal number with an optional K, M or G suffix (binary). */
static int
parse_size(const char *text, uint64_t *size_r)
{
	unsigned long long n;
	char *end;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		n = n > (UINT64_MAX >> 10) ? UINT64_MAX : n << 10;
		end++;
		break;
	case 'm': case 'M':
		n = n > (UINT64_MAX >> 20) ? UINT64_MAX : n << 20;
		end++;
		break;
	case 'g': case 'G':
		n = n > (UINT64_MAX >> 30) ? UINT64_MAX : n << 30;
		end++;
		break;
	default:
		return -1;
	}
	if (*end != '\0')
		return -1;
	*size_r = n;
	return 0;
}

static int
parse_uint(const char *text, unsigned int min, unsigned int max,
	   unsigned int *n_r)
{
	uint64_t n;

	if (parse_size(text, &n) < 0 || strpbrk(text, "kKmMgG") != NULL ||
	    n < min || n > max)
		return -1;
	*n_r = (unsigned int)n;
	return 0;
}

/* "ADDR:PORT" with ADDR an IPv4 address, [IPv6], "*" or "localhost";
   PORT 0 lets the kernel choose. */
static int
parse_addr(const char *text, struct listen_spec *spec)
{
	const char *colon = strrchr(text, ':');
	struct sockaddr_in *sin = (struct sockaddr_in *)&spec->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&spec->addr;
	size_t hostlen = colon == NULL ? 0 : (size_t)(colon - text);
	char host[INET6_ADDRSTRLEN + 2];
	unsigned long port;
	char *end;

	if (colon == NULL || hostlen == 0 || hostlen >= sizeof(host) ||
	    colon[1] < '0' || colon[1] > '9')
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port > 65535)
		return -1;
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	memset(&spec->addr, 0, sizeof(spec->addr));
	if (host[0] == '[' && host[hostlen - 1] == ']') {
		host[hostlen - 1] = '\0';
		if (evutil_inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		spec->addrlen = sizeof(*sin6);
		return 0;
	}
	if (strcmp(host, "*") == 0)
		i_strlcpy(host, "0.0.0.0", sizeof(host));
	else if (strcasecmp(host, "localhost") == 0)
		i_strlcpy(host, "127.0.0.1", sizeof(host));
	if (evutil_inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	spec->addrlen = sizeof(*sin);
	return 0;
}

/* "PROTO=ADDR:PORT"; prints the problem and returns -1. */
static int
parse_listen(struct daemon_settings *set, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct listen_spec *spec;
	char proto[32];
	unsigned int i;

	if (set->listen_count == DAEMON_LISTENERS_MAX) {
		fprintf(stderr, "commune serve: too many --listen (at most "
			"%d)\n", DAEMON_LISTENERS_MAX);
		return -1;
	}
	if (eq == NULL || (size_t)(eq - arg) >= sizeof(proto)) {
		fprintf(stderr, "commune serve: --listen wants PROTO=ADDR:PORT, "
			"got '%s'\n", arg);
		return -1;
	}
	memcpy(proto, arg, (size_t)(eq - arg));
	proto[eq - arg] = '\0';
	spec = &set->listens[set->listen_count];
	spec->proto = daemon_protocol_find(proto);
	if (spec->proto == NULL) {
		fprintf(stderr, "commune serve: unknown protocol '%s' in "
			"--listen %s; known:", proto, arg);
		for (i = 0; i < daemon_protocol_count; i++)
			fprintf(stderr, " %s", daemon_protocols[i].name);
		fputc('\n', stderr);
		return -1;
	}
	if (parse_addr(eq + 1, spec) < 0) {
		fprintf(stderr, "commune serve: bad address '%s' in --listen "
			"(want 127.0.0.1:PORT, [::1]:PORT, *:PORT)\n", eq + 1);
		return -1;
	}
	set->listen_count++;
	return 0;
}

static int
parse_log_level(const char *text, enum log_level *level_r)
{
	if (strcasecmp(text, "debug") == 0)
		*level_r = LOG_LEVEL_DEBUG;
	else if (strcasecmp(text, "info") == 0)
		*level_r = LOG_LEVEL_INFO;
	else if (strcasecmp(text, "warn") == 0 ||
		 strcasecmp(text, "warning") == 0)
		*level_r = LOG_LEVEL_WARN;
	else if (strcasecmp(text, "error") == 0)
		*level_r = LOG_LEVEL_ERROR;
	else
		return -1;
	return 0;
}

/* "[PROTO=]N": N for PROTO's family, or for every family. */
static int
parse_family_uint(const char *arg, unsigned int values[DAEMON_FAMILY_COUNT])
{
	const char *eq = strchr(arg, '=');
	const struct protocol_def *proto = NULL;
	unsigned int i, n;
	char name[32];

	if (eq != NULL) {
		if ((size_t)(eq - arg) >= sizeof(name))
			return -1;
		memcpy(name, arg, (size_t)(eq - arg));
		name[eq - arg] = '\0';
		if ((proto = daemon_protocol_find(name)) == NULL)
			return -1;
		arg = eq + 1;
	}
	if (parse_uint(arg, 0, DAEMON_MAX_CONNECTIONS_MAX, &n) < 0)
		return -1;
	for (i = 0; i < DAEMON_FAMILY_COUNT; i++) {
		if (proto == NULL || proto->family == i)
			values[i] = n;
	}
	return 0;
}

static unsigned int
default_workers(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long n = cpus > 0 ? cpus * 2 : WORKER_THREADS_DEFAULT;

	return n < 4 ? 4 : n > 64 ? 64 : (unsigned int)n;
}

enum {
	OPT_BASE = 256, OPT_LISTEN, OPT_WORKERS, OPT_LOG_LEVEL, OPT_MAX_SIZE,
	OPT_IDLE, OPT_SHUTDOWN, OPT_PIDFILE, OPT_PROTOCOLS, OPT_HELP,
	OPT_TLS_CERT, OPT_TLS_KEY, OPT_ALLOW_PLAINTEXT, OPT_MAX_CONNECTIONS,
	OPT_MAX_PER_IP, OPT_LIMIT_LOOPBACK, OPT_LOGIN_TIMEOUT,
};

static const struct option options[] = {
	{ "base", required_argument, NULL, OPT_BASE },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "max-message-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "login-timeout", required_argument, NULL, OPT_LOGIN_TIMEOUT },
	{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN },
	{ "pidfile", required_argument, NULL, OPT_PIDFILE },
	{ "protocols", no_argument, NULL, OPT_PROTOCOLS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "allow-plaintext-auth", no_argument, NULL, OPT_ALLOW_PLAINTEXT },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "max-connections-per-ip", required_argument, NULL, OPT_MAX_PER_IP },
	{ "limit-loopback", no_argument, NULL, OPT_LIMIT_LOOPBACK },
	{ NULL, 0, NULL, 0 },
};

/* One option; -1 after printing why. */
static int
apply_option(struct daemon_settings *set, int opt, const char *arg)
{
	const char *what = NULL;

	switch (opt) {
	case OPT_BASE:
		set->base_dir = arg;
		return 0;
	case OPT_LISTEN:
		return parse_listen(set, arg);
	case OPT_WORKERS:
		if (parse_uint(arg, 1, WORKER_THREADS_MAX, &set->workers) == 0)
			return 0;
		what = "--workers wants 1..256";
		break;
	case OPT_LOG_LEVEL:
		if (parse_log_level(arg, &set->log_level) == 0)
			return 0;
		what = "--log-level wants debug, info or warn";
		break;
	case OPT_MAX_SIZE:
		if (parse_size(arg, &set->max_message_size) == 0 &&
		    set->max_message_size > 0 &&
		    set->max_message_size <= STORE_MESSAGE_MAX)
			return 0;
		what = "--max-message-size wants 1 byte .. 64M";
		break;
	case OPT_IDLE:
		if (parse_uint(arg, 1, 86400, &set->idle_timeout_secs) == 0)
			return 0;
		what = "--idle-timeout wants 1..86400 seconds";
		break;
	case OPT_LOGIN_TIMEOUT:
		if (parse_uint(arg, 1, 86400, &set->login_timeout_secs) == 0)
			return 0;
		what = "--login-timeout wants 1..86400 seconds";
		break;
	case OPT_SHUTDOWN:
		if (parse_uint(arg, 0, 86400,
			       &set->shutdown_timeout_secs) == 0)
			return 0;
		what = "--shutdown-timeout wants 0..86400 seconds";
		break;
	case OPT_PIDFILE:
		set->pidfile = arg;
		return 0;
	case OPT_TLS_CERT:
		set->tls_cert = arg;
		return 0;
	case OPT_TLS_KEY:
		set->tls_key = arg;
		return 0;
	case OPT_ALLOW_PLAINTEXT:
		set->allow_plaintext_auth = true;
		return 0;
	case OPT_MAX_CONNECTIONS:
		if (parse_family_uint(arg, set->max_connections) == 0)
			return 0;
		what = "--max-connections wants [PROTO=]N, N 0..10000000";
		break;
	case OPT_MAX_PER_IP:
		if (parse_family_uint(arg, set->max_per_ip) == 0)
			return 0;
		what = "--max-connections-per-ip wants [PROTO=]N, "
			"N 0..10000000";
		break;
	case OPT_LIMIT_LOOPBACK:
		set->limit_loopback = true;
		return 0;
	default:
		usage(stderr);
		return -1;
	}
	fprintf(stderr, "commune serve: %s, got '%s'\n", what, arg);
	return -1;
}

/* Returns 0 to serve, 1 when done (--help, --protocols), -1 on a usage
   error. */
static int
parse_args(int argc, char **argv, struct daemon_settings *set)
{
	const char *env = getenv("COMMUNE_BASE");
	unsigned int i;
	int opt;

	set->base_dir = env != NULL && *env != '\0' ? env : "./var";
	set->workers = default_workers();
	set->log_level = LOG_LEVEL_INFO;
	set->shutdown_timeout_secs = DAEMON_SHUTDOWN_TIMEOUT_DEFAULT_SECS;
	for (i = 0; i < DAEMON_FAMILY_COUNT; i++) {
		set->max_connections[i] = DAEMON_MAX_CONNECTIONS_DEFAULT;
		set->max_per_ip[i] = DAEMON_MAX_PER_IP_DEFAULT;
	}
	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == OPT_HELP) {
			usage(stdout);
			return 1;
		}
		if (opt == OPT_PROTOCOLS) {
			for (i = 0; i < daemon_protocol_count; i++)
				printf("%s\n", daemon_protocols[i].name);
			return 1;
		}
		if (apply_option(set, opt, optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "commune serve: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if ((set->tls_cert == NULL) != (set->tls_key == NULL)) {
		fprintf(stderr, "commune serve: --tls-cert and --tls-key go "
			"together\n");
		return -1;
	}
	if (set->listen_count == 0) {
		fprintf(stderr, "commune serve: no --listen given\n");
		usage(stderr);
		return -1;
	}
	if (gethostname(set->hostname, sizeof(set->hostname) - 1) == -1 ||
	    set->hostname[0] == '\0')
		i_strlcpy(set->hostname, "localhost", sizeof(set->hostname));
	return 0;
}

/* ---- stopping ---- */

static bool
frontends_idle(struct server *server)
{
	unsigned int i;

	for (i = 0; i < server->frontend_count; i++) {
		struct frontend *fe = &server->frontends[i];

		if (fe->proto->ops->connection_count(fe->ctx) > 0)
			return false;
	}
	return worker_pool_pending(server->pool) == 0;
}

static void
stop_timer_cb(evutil_socket_t fd, short what, void *context)
{
	struct server *server = context;

	if (frontends_idle(server)) {
		event_base_loopbreak(server->base);
	} else if (now_ms() >= server->stop_deadline_ms) {
		log_warnx("shutdown timeout: closing with %u store jobs "
			  "still running", worker_pool_pending(server->pool));
		server->forced = true;
		event_base_loopbreak(server->base);
	}
}

static void
server_stop(struct server *server)
{
	struct timeval poll = { 0, DAEMON_STOP_POLL_MS * 1000 };
	unsigned int i;

	server->stopping = true;
	for (i = 0; i < server->listener_count; i++)
		listener_destroy(&server->listeners[i]);
	for (i = 0; i < server->frontend_count; i++) {
		struct frontend *fe = &server->frontends[i];

		fe->proto->ops->shutdown(fe->ctx);
	}
	server->stop_deadline_ms = now_ms() +
		(int64_t)server->set.shutdown_timeout_secs * 1000;
	server->stop_timer = event_new(server->base, -1, EV_PERSIST,
				       stop_timer_cb, server);
	event_add(server->stop_timer, &poll);
	/* Maybe nothing is in flight at all. */
	stop_timer_cb(-1, 0, server);
}

static void
signal_cb(evutil_socket_t sig, short what, void *context)
{
	struct server *server = context;

	if (server->stopping) {
		log_info("signal %d again: stopping now", (int)sig);
		server->forced = true;
		event_base_loopbreak(server->base);
		return;
	}
	log_info("signal %d: stopping (finishing deliveries in progress)",
		 (int)sig);
	server_stop(server);
}

/* ---- start-up ---- */

static int
write_pidfile(const char *path)
{
	char text[32];
	int fd, len;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		fprintf(stderr, "commune serve: open(%s): %s\n", path,
			strerror(errno));
		return -1;
	}
	len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (write(fd, text, (size_t)len) != len) {
		fprintf(stderr, "commune serve: write(%s): %s\n", path,
			strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The limit of a family, created with the first of its front-ends. */
static struct connlimit *
family_limit(struct server *server, enum daemon_family family)
{
	const struct daemon_settings *set = &server->set;
	struct connlimit_settings limit_set = {
		.max_connections = set->max_connections[family],
		.max_per_ip = set->max_per_ip[family],
		.limit_loopback = set->limit_loopback,
	};
	unsigned int budget = connlimit_max(server->fd_limit);
	unsigned int max = limit_set.max_connections;
	bool by_fds = budget != 0 && (max == 0 || max > budget);
	char per_ip[64] = "no limit";

	if (server->limits[family] != NULL)
		return server->limits[family];
	if (limit_set.max_per_ip != 0)
		snprintf(per_ip, sizeof(per_ip), "%u%s", limit_set.max_per_ip,
			 set->limit_loopback ? "" : ", loopback exempt");
	if (by_fds || max != 0)
		log_info("%s: at most %u connections (%s), per client "
			 "address: %s", daemon_family_name(family),
			 by_fds ? budget : max, by_fds ? "the open-files "
			 "limit, for all protocols" : "--max-connections",
			 per_ip);
	else
		log_info("%s: no connection limit, per client address: %s",
			 daemon_family_name(family), per_ip);
	server->limits[family] = connlimit_create(&limit_set,
						  server->fd_limit);
	return server->limits[family];
}

static struct frontend *
frontend_get(struct server *server, const struct protocol_def *proto)
{
	struct frontend *fe;
	unsigned int i;

	for (i = 0; i < server->frontend_count; i++) {
		if (server->frontends[i].proto == proto)
			return &server->frontends[i];
	}
	fe = &server->frontends[server->frontend_count++];
	fe->proto = proto;
	fe->ctx = proto->ops->create(server);
	fe->limit = family_limit(server, proto->family);
	return fe;
}

/* Binds every listener, then prints one line for each. */
static int
server_listen(struct server *server)
{
	char desc[160];
	unsigned int i;

	for (i = 0; i < server->set.listen_count; i++) {
		const struct listen_spec *spec = &server->set.listens[i];
		struct frontend *fe = frontend_get(server, spec->proto);

		if (fe->ctx == NULL)
			return -1;
		server->listeners[i] = listener_create(server, spec, fe);
		if (server->listeners[i] == NULL)
			return -1;
		server->listener_count++;
	}
	for (i = 0; i < server->listener_count; i++) {
		listener_describe(server->listeners[i], desc, sizeof(desc));
		fprintf(stderr, "commune: listening %s\n", desc);
	}
	return 0;
}

/*
 * Loads the TLS certificate: the one given with --tls-cert/--tls-key
 * (which must work), else BASE/Settings/server.crt and server.key when
 * both exist (`make run` generates them). Without a certificate the
 * server runs without TLS: STLS/STARTTLS are not offered and the
 * implicit-TLS front-ends refuse to start.
 */
static int
server_tls_init(struct server *server)
{
	const struct daemon_settings *set = &server->set;
	char *cert = NULL, *key = NULL;
	const char *error;
	int ret = 0;

	if (set->tls_cert != NULL) {
		cert = i_strdup(set->tls_cert);
		key = i_strdup(set->tls_key);
	} else {
		cert = i_strdup_printf("%s/Settings/server.crt",
				       set->base_dir);
		key = i_strdup_printf("%s/Settings/server.key", set->base_dir);
		if (access(cert, F_OK) != 0 || access(key, F_OK) != 0) {
			log_info("no TLS certificate (%s): TLS is off", cert);
			goto out;
		}
	}
	if (tls_context_create(cert, key, &server->tls, &error) < 0) {
		fprintf(stderr, "commune serve: TLS: %s\n", error);
		ret = -1;
	}
out:
	free(cert);
	free(key);
	return ret;
}

/*
 * The limit under every family's: each connection holds a descriptor,
 * and the store's files, the listeners and refusals need some more, so
 * connections of all protocols together get what the open-files limit
 * leaves after DAEMON_FD_RESERVE_MIN or an eighth of it. At that point
 * a new client gets a refusal instead of accept() and the store's opens
 * failing with EMFILE for everyone.
 */
static struct connlimit *
fd_limit_create(void)
{
	struct connlimit_settings set = { 0 };
	struct rlimit rl;
	uint64_t n, reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY) {
		n = rl.rlim_cur;
		reserve = n / 8 > DAEMON_FD_RESERVE_MIN ? n / 8 :
			DAEMON_FD_RESERVE_MIN;
		if (reserve > n / 2)
			reserve = n / 2;
		n -= reserve;
		set.max_connections = n == 0 ? 1 : n > UINT32_MAX ?
			UINT32_MAX : (unsigned int)n;
	}
	return connlimit_create(&set, NULL);
}

static int
server_init(struct server *server)
{
	if (store_open(server->set.base_dir, &server->store) < 0) {
		const char *text;

		store_error(&text);
		fprintf(stderr, "commune serve: cannot open base directory "
			"%s: %s\n", server->set.base_dir, text);
		return -1;
	}
	if (evthread_use_pthreads() != 0) {
		fprintf(stderr, "commune serve: libevent threads unavailable\n");
		return -1;
	}
	server->base = event_base_new();
	if (server->base == NULL) {
		fprintf(stderr, "commune serve: cannot create the event loop\n");
		return -1;
	}
	server->pool = worker_pool_create(server->base, server->set.workers);
	if (server->pool == NULL)
		return -1;
	if (server_tls_init(server) < 0)
		return -1;
	server->fd_limit = fd_limit_create();
	server->sig_term = evsignal_new(server->base, SIGTERM, signal_cb,
					server);
	server->sig_int = evsignal_new(server->base, SIGINT, signal_cb,
				       server);
	if (server->sig_term == NULL || server->sig_int == NULL ||
	    event_add(server->sig_term, NULL) != 0 ||
	    event_add(server->sig_int, NULL) != 0) {
		fprintf(stderr, "commune serve: cannot watch signals\n");
		return -1;
	}
	return server_listen(server);
}

/*
 * Frees everything. With jobs still in the pool (forced stop), waiting
 * for them could take as long as the disk hangs, so the process exits
 * without freeing; nothing it drops was acknowledged.
 */
static void
server_deinit(struct server *server)
{
	unsigned int i;

	if (server->pool != NULL && worker_pool_pending(server->pool) > 0) {
		if (server->set.pidfile != NULL)
			unlink(server->set.pidfile);
		fflush(NULL);
		_exit(0);
	}
	for (i = 0; i < server->listener_count; i++)
		listener_destroy(&server->listeners[i]);
	for (i = 0; i < server->frontend_count; i++) {
		struct frontend *fe = &server->frontends[i];

		if (fe->ctx != NULL)
			fe->proto->ops->destroy(fe->ctx);
	}
	/* every session is gone now, so every count must be 0 */
	listener_refusals_free(server);
	for (i = 0; i < DAEMON_FAMILY_COUNT; i++)
		connlimit_destroy(&server->limits[i]);
	connlimit_destroy(&server->fd_limit);
	worker_pool_destroy(&server->pool);
	if (server->stop_timer != NULL)
		event_free(server->stop_timer);
	if (server->sig_term != NULL)
		event_free(server->sig_term);
	if (server->sig_int != NULL)
		event_free(server->sig_int);
	if (server->base != NULL)
		event_base_free(server->base);
	tls_context_destroy(&server->tls);
	store_close(&server->store);
}

/*
 * Every connection costs a descriptor (IDLE clients stay connected for
 * hours), and the usual soft limit of 1024 would stop accept() long
 * before memory runs out; the hard limit is what the administrator
 * allows, so take all of it.
 */
static void
raise_nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit(RLIMIT_NOFILE)");
		return;
	}
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit(RLIMIT_NOFILE, %llu)",
			 (unsigned long long)rl.rlim_max);
}

int
daemon_main(int argc, char **argv)
{
	struct server *server = i_malloc(sizeof(*server));
	bool pidfile_written = false;
	int ret;

	ret = parse_args(argc, argv, &server->set);
	if (ret != 0) {
		free(server);
		return ret < 0 ? 2 : 0;
	}
	log_init("commune", server->set.log_level);
	/* A client that resets its connection must not kill the server. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile_limit();

	ret = 1;
	/* The pid file exists before the "listening" lines appear, so
	   whoever waits for those can read it. */
	if (server->set.pidfile != NULL) {
		if (write_pidfile(server->set.pidfile) < 0)
			goto out;
		pidfile_written = true;
	}
	if (server_init(server) < 0)
		goto out;
	if (event_base_dispatch(server->base) == -1) {
		fprintf(stderr, "commune serve: event loop failed\n");
		goto out;
	}
	log_info("stopped");
	ret = 0;
out:
	if (pidfile_written)
		unlink(server->set.pidfile);
	server_deinit(server);
	free(server);
	return ret;
}
