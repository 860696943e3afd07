/*
 * proto_tcp.c - the TCP state table of net/netfilter/ipvs/ip_vs_proto_tcp.c
 * (tcp_states[], without secure_tcp). Rows: direction x flag, columns: the
 * current state. RST wins over SYN, SYN over FIN, FIN over ACK, as
 * tcp_state_idx() orders them; a packet with none of them keeps the state.
 */
#include "proto_tcp.h"

#include "pkt.h"

#define sNO TCP_S_NONE
#define sES TCP_S_ESTABLISHED
#define sSS TCP_S_SYN_SENT
#define sSR TCP_S_SYN_RECV
#define sFW TCP_S_FIN_WAIT
#define sTW TCP_S_TIME_WAIT
#define sCL TCP_S_CLOSE
#define sCW TCP_S_CLOSE_WAIT
#define sLA TCP_S_LAST_ACK
#define sLI TCP_S_LISTEN
#define sSA TCP_S_SYNACK

enum { F_SYN, F_FIN, F_ACK, F_RST, F_LAST };

/* The matrix reads as IPVS's: keep it out of clang-format. */
/* clang-format off */
static const uint8_t tcp_states[3][F_LAST][TCP_S_LAST] = {
	[DIR_INPUT] = {
		/*        sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA */
		[F_SYN] = { sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR },
		[F_FIN] = { sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW },
		[F_ACK] = { sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES },
		[F_RST] = { sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR },
	},
	[DIR_OUTPUT] = {
		/*        sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA */
		[F_SYN] = { sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR },
		[F_FIN] = { sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW },
		[F_ACK] = { sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES },
		[F_RST] = { sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL },
	},
	[DIR_INPUT_ONLY] = {
		/*        sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA */
		[F_SYN] = { sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR },
		[F_FIN] = { sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW },
		[F_ACK] = { sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES },
		[F_RST] = { sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL },
	},
};

/* clang-format on */

static const char *const state_names[TCP_S_LAST] = {
    [TCP_S_NONE] = "NONE",	   [TCP_S_ESTABLISHED] = "ESTABLISHED",
    [TCP_S_SYN_SENT] = "SYN_SENT", [TCP_S_SYN_RECV] = "SYN_RECV",
    [TCP_S_FIN_WAIT] = "FIN_WAIT", [TCP_S_TIME_WAIT] = "TIME_WAIT",
    [TCP_S_CLOSE] = "CLOSE",	   [TCP_S_CLOSE_WAIT] = "CLOSE_WAIT",
    [TCP_S_LAST_ACK] = "LAST_ACK", [TCP_S_LISTEN] = "LISTEN",
    [TCP_S_SYNACK] = "SYNACK",
};

enum tcp_state tcp_next_state(enum conn_dir dir, uint8_t tcp_flags,
			      enum tcp_state cur)
{
	int f;

	if (cur >= TCP_S_LAST || dir > DIR_INPUT_ONLY)
		return TCP_S_CLOSE;
	if (tcp_flags & PKT_TCP_RST)
		f = F_RST;
	else if (tcp_flags & PKT_TCP_SYN)
		f = F_SYN;
	else if (tcp_flags & PKT_TCP_FIN)
		f = F_FIN;
	else if (tcp_flags & PKT_TCP_ACK)
		f = F_ACK;
	else
		return TCP_S_CLOSE; /* as IPVS: a packet without flags */
	return (enum tcp_state)tcp_states[dir][f][cur];
}

const char *tcp_state_name(enum tcp_state s)
{
	return s < TCP_S_LAST ? state_names[s] : "?";
}
