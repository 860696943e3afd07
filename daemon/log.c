/* log.c - levelled logging to syslog, and to stderr in the foreground */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_BURST 5 /* lines per second per rate-limited call site */

static struct {
	bool to_stderr;
	bool syslog_open;
	enum log_level level;
} logger = {.to_stderr = true, .level = LOG_LVL_INFO};

static const struct {
	const char *name;
	enum log_level level;
} level_names[] = {
    {"error", LOG_LVL_ERROR},
    {"warning", LOG_LVL_WARNING},
    {"info", LOG_LVL_INFO},
    {"debug", LOG_LVL_DEBUG},
};

/*
 * Under systemd, stderr is the journal ($JOURNAL_STREAM names its device
 * and inode, see systemd.exec(5)), which syslog reaches too: writing both
 * would log every line twice.
 */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, bool to_stderr, enum log_level level)
{
	logger.to_stderr = to_stderr && !stderr_is_journal();
	logger.level = level;
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	logger.syslog_open = true;
}

/* Atomic: with several queues, workers log while a reload sets it. */
void log_set_level(enum log_level level)
{
	__atomic_store_n(&logger.level, level, __ATOMIC_RELAXED);
}

int log_level_parse(const char *name, enum log_level *level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcmp(name, level_names[i].name) == 0) {
			*level = level_names[i].level;
			return 0;
		}
	}
	return -1;
}

bool log_enabled(enum log_level level)
{
	return level <= __atomic_load_n(&logger.level, __ATOMIC_RELAXED);
}

static const char *level_name(enum log_level level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++)
		if (level_names[i].level == level)
			return level_names[i].name;
	return "?";
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (logger.syslog_open)
		syslog((int)level, "%s", line);
	if (logger.to_stderr)
		fprintf(stderr, "nfqlb: %s: %s\n", level_name(level), line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_limited(struct log_ratelimit *rl, enum log_level level,
		 const char *fmt, ...)
{
	time_t now = time(NULL);
	va_list ap;

	if (!log_enabled(level))
		return;
	if (now != rl->window) {
		if (rl->missed)
			log_msg(level, "%u similar messages suppressed",
				rl->missed);
		rl->window = now;
		rl->count = 0;
		rl->missed = 0;
	}
	if (rl->count >= LOG_BURST) {
		rl->missed++;
		return;
	}
	rl->count++;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_close(void)
{
	if (logger.syslog_open)
		closelog();
	logger.syslog_open = false;
}
