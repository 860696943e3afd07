/* log.h - levelled logging to syslog, and to stderr in the foreground */
#ifndef NFQLB_LOG_H
#define NFQLB_LOG_H

#include <stdbool.h>
#include <syslog.h>
#include <time.h>

/* Levels are syslog priorities so an operator can filter them there. */
enum log_level {
	LOG_LVL_ERROR = LOG_ERR,
	LOG_LVL_WARNING = LOG_WARNING,
	LOG_LVL_INFO = LOG_INFO,
	LOG_LVL_DEBUG = LOG_DEBUG,
};

/* Rate limit state for messages logged from the packet path. */
struct log_ratelimit {
	time_t window;	     /* second the current window started */
	unsigned int count;  /* messages logged in this window */
	unsigned int missed; /* messages suppressed in this window */
};

void log_init(const char *ident, bool to_stderr, enum log_level level);
void log_set_level(enum log_level level);
int log_level_parse(const char *name, enum log_level *level);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Like log_msg, at most a few lines per second per call site. */
void log_limited(struct log_ratelimit *rl, enum log_level level,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void log_close(void);

#define log_err(...)  log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_enabled(LOG_LVL_DEBUG))                                \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                   \
	} while (0)

#endif
