/* The lifecycle a run covered, drawn over the RFC 9293 state diagram (3.3.2, Figure 5).
 *
 * Counts live in a shared anonymous mapping: in-process stacks run each case in a child
 * process (sfh_run_isolated), and the counts that child adds must reach the parent. Each
 * counter is bumped atomically, so concurrent children do not lose steps. */
#include <math.h>
#include <string.h>
#include <sys/mman.h>

#include "ci.h"

#define NS	   (SFO_NSTATES + 1) /* the states, and "unknown" */
#define RULE_WORDS 4		     /* a bit per rule: 256 rules and pseudo-rules */

struct sfc_life {
	unsigned long steps;
	unsigned long edge[NS][NS];		      /* before -> after, any event */
	unsigned long ev[NS][NS][SFO_NEVCLASSES];     /* ... by event class */
	unsigned long div[NS][NS];		      /* divergent verdicts on that edge */
	unsigned long long rules[NS][NS][RULE_WORDS]; /* their rules */
};

struct sfc_life *sfc_life_new(void)
{
	void *p = mmap(NULL, sizeof(struct sfc_life), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p; /* zero-filled */
}

void sfc_life_free(struct sfc_life *l)
{
	if (l)
		munmap(l, sizeof *l);
}

static unsigned st(enum sfo_state s)
{
	return (unsigned)s < SFO_NSTATES ? (unsigned)s : SFO_NSTATES;
}

void sfc_life_step(void *ctx, const struct sfh_cover *c)
{
	struct sfc_life *l = ctx;
	unsigned b = st(c->before), a = st(c->after);
	__atomic_add_fetch(&l->steps, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&l->edge[b][a], 1, __ATOMIC_RELAXED);
	if ((unsigned)c->evclass < SFO_NEVCLASSES)
		__atomic_add_fetch(&l->ev[b][a][c->evclass], 1, __ATOMIC_RELAXED);
}

void sfc_life_verdict(struct sfc_life *l, const struct sfh_result *res)
{
	const struct sfo_verdict *v = &res->verdict;
	if (v->kind == SFO_DIV_OK || v->accepted)
		return;
	/* where the stack went; where the model wanted it when the stack's state is not
	 * seen (or it crashed) */
	unsigned b = st(v->before);
	unsigned a =
	    st(v->observed) < SFO_NSTATES && v->kind != SFO_DIV_CRASH && v->kind != SFO_DIV_HANG
		? st(v->observed)
		: st(v->expected);
	__atomic_add_fetch(&l->div[b][a], 1, __ATOMIC_RELAXED);
	if (v->rule < RULE_WORDS * 64)
		__atomic_or_fetch(&l->rules[b][a][v->rule / 64], 1ull << (v->rule % 64),
				  __ATOMIC_RELAXED);
}

unsigned long sfc_life_steps(const struct sfc_life *l)
{
	return l->steps;
}

unsigned sfc_life_transitions(const struct sfc_life *l)
{
	unsigned n = 0;
	for (unsigned b = 0; b < NS; b++)
		for (unsigned a = 0; a < NS; a++)
			n += l->edge[b][a] != 0;
	return n;
}

/* Figure 5's arcs and their labels (event / action), in our words. */
static const struct {
	enum sfo_state from, to;
	const char *label;
} fig5[] = {
    {SFO_CLOSED, SFO_LISTEN, "passive OPEN"},
    {SFO_CLOSED, SFO_SYN_SENT, "active OPEN / SYN"},
    {SFO_LISTEN, SFO_SYN_RECEIVED, "rcv SYN / SYN,ACK"},
    {SFO_LISTEN, SFO_SYN_SENT, "SEND / SYN"},
    {SFO_LISTEN, SFO_CLOSED, "CLOSE"},
    {SFO_SYN_SENT, SFO_SYN_RECEIVED, "rcv SYN / ACK"},
    {SFO_SYN_SENT, SFO_ESTABLISHED, "rcv SYN,ACK / ACK"},
    {SFO_SYN_SENT, SFO_CLOSED, "CLOSE"},
    {SFO_SYN_RECEIVED, SFO_ESTABLISHED, "rcv ACK of SYN"},
    {SFO_SYN_RECEIVED, SFO_FIN_WAIT_1, "CLOSE / FIN"},
    {SFO_SYN_RECEIVED, SFO_LISTEN, "rcv RST"},
    {SFO_ESTABLISHED, SFO_FIN_WAIT_1, "CLOSE / FIN"},
    {SFO_ESTABLISHED, SFO_CLOSE_WAIT, "rcv FIN / ACK"},
    {SFO_FIN_WAIT_1, SFO_FIN_WAIT_2, "rcv ACK of FIN"},
    {SFO_FIN_WAIT_1, SFO_CLOSING, "rcv FIN / ACK"},
    {SFO_FIN_WAIT_2, SFO_TIME_WAIT, "rcv FIN / ACK"},
    {SFO_CLOSING, SFO_TIME_WAIT, "rcv ACK of FIN"},
    {SFO_CLOSE_WAIT, SFO_LAST_ACK, "CLOSE / FIN"},
    {SFO_LAST_ACK, SFO_CLOSED, "rcv ACK of FIN"},
    {SFO_TIME_WAIT, SFO_CLOSED, "timeout 2MSL"},
};

static const char *fig5_label(unsigned b, unsigned a)
{
	for (size_t i = 0; i < sizeof fig5 / sizeof fig5[0]; i++)
		if ((unsigned)fig5[i].from == b && (unsigned)fig5[i].to == a)
			return fig5[i].label;
	return NULL;
}

static const char *name(unsigned s)
{
	return s < SFO_NSTATES ? sfo_state_name((enum sfo_state)s) : "unknown";
}

static void node_id(FILE *f, unsigned s)
{
	fprintf(f, "\"%s\"", name(s));
}

/* The two event classes seen most often on an edge: "syn 120, ack 3". */
static void top_events(const struct sfc_life *l, unsigned b, unsigned a, char *buf, size_t cap)
{
	int best[2] = {-1, -1};
	for (int e = 0; e < SFO_NEVCLASSES; e++) {
		unsigned long n = l->ev[b][a][e];
		if (!n)
			continue;
		if (best[0] < 0 || n > l->ev[b][a][best[0]]) {
			best[1] = best[0];
			best[0] = e;
		} else if (best[1] < 0 || n > l->ev[b][a][best[1]]) {
			best[1] = e;
		}
	}
	buf[0] = 0;
	for (int i = 0; i < 2 && best[i] >= 0; i++) {
		size_t len = strlen(buf);
		snprintf(buf + len, cap - len, "%s%s", i ? ", " : "",
			 sfo_evclass_name((enum sfo_evclass)best[i]));
	}
}

static void rules_of(const struct sfc_life *l, unsigned b, unsigned a, char *buf, size_t cap)
{
	size_t len = 0, shown = 0, more = 0;
	buf[0] = 0;
	for (unsigned r = 0; r < RULE_WORDS * 64; r++) {
		if (!(l->rules[b][a][r / 64] & (1ull << (r % 64))))
			continue;
		const struct sfo_rule_info *ri = sfo_rule_any((sfo_rule_t)r);
		if (!ri)
			continue;
		if (shown == 3) {
			more++;
			continue;
		}
		snprintf(buf + len, cap - len, "%s%s", shown ? "\\n" : "", ri->id);
		len = strlen(buf);
		shown++;
	}
	if (more)
		snprintf(buf + len, cap - len, "\\n+%zu more", more);
}

int sfc_life_dot(FILE *f, const struct sfc_life *l, const char *title)
{
	unsigned long max = 1;
	for (unsigned b = 0; b < NS; b++)
		for (unsigned a = 0; a < NS; a++)
			if (l->edge[b][a] > max)
				max = l->edge[b][a];
	fputs("digraph synfin_lifecycle {\n"
	      "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=12, labelloc=t, "
	      "nodesep=0.5, ranksep=0.45, label=",
	      f);
	sfh_json_str(f, title); /* a JSON string is a valid DOT quoted string */
	fputs("];\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f4f4\", "
	      "fontname=\"Helvetica\", fontsize=11];\n"
	      "  edge [fontname=\"Helvetica\", fontsize=9];\n",
	      f);
	/* every state of Figure 5, in its usual layout from top to bottom */
	static const enum sfo_state rank[][2] = {
	    {SFO_CLOSED, SFO_CLOSED},	      {SFO_LISTEN, SFO_LISTEN},
	    {SFO_SYN_RECEIVED, SFO_SYN_SENT}, {SFO_ESTABLISHED, SFO_ESTABLISHED},
	    {SFO_FIN_WAIT_1, SFO_CLOSE_WAIT}, {SFO_FIN_WAIT_2, SFO_CLOSING},
	    {SFO_TIME_WAIT, SFO_LAST_ACK},
	};
	for (size_t i = 0; i < sizeof rank / sizeof rank[0]; i++) {
		fputs("  { rank=same; ", f);
		node_id(f, rank[i][0]);
		if (rank[i][1] != rank[i][0]) {
			fputs("; ", f);
			node_id(f, rank[i][1]);
		}
		fputs("; }\n", f);
	}
	for (unsigned s = 0; s < NS; s++) {
		unsigned long in = 0, out = 0;
		for (unsigned o = 0; o < NS; o++)
			in += l->edge[o][s] + l->div[o][s], out += l->edge[s][o] + l->div[s][o];
		if (s == SFO_NSTATES && !in && !out)
			continue; /* "unknown" only when a target could not say */
		fputs("  ", f);
		node_id(f, s);
		fprintf(f, " [%s%s];\n",
			in || out ? "fillcolor=\"#dbe9f6\"" : "fontcolor=\"#888888\"",
			s == SFO_NSTATES ? ", label=\"state unknown\\n(crash, hang, unseen)\", "
					   "fillcolor=\"#fbe3e0\""
					 : "");
	}
	for (unsigned b = 0; b < NS; b++) {
		for (unsigned a = 0; a < NS; a++) {
			unsigned long n = l->edge[b][a];
			const char *fig = fig5_label(b, a);
			char evs[128], rules[256];
			if (!n && !l->div[b][a] && !fig)
				continue;
			fputs("  ", f);
			node_id(f, b);
			fputs(" -> ", f);
			node_id(f, a);
			if (l->div[b][a]) {
				rules_of(l, b, a, rules, sizeof rules);
				fprintf(
				    f,
				    " [color=\"#c0392b\", fontcolor=\"#c0392b\", penwidth=%.1f, "
				    "label=\"%lu divergent\\n%s\"];\n",
				    1.5 +
					2.5 * log((double)l->div[b][a] + 1) / log((double)max + 1),
				    l->div[b][a], rules);
				if (!n)
					continue;
				/* and the same transition as it was taken: a second arc */
				fputs("  ", f);
				node_id(f, b);
				fputs(" -> ", f);
				node_id(f, a);
			}
			if (n) {
				top_events(l, b, a, evs, sizeof evs);
				fprintf(f,
					" [color=\"#1f4e79\", penwidth=%.1f, label=\"%lu%s%s\"];\n",
					0.8 + 4.2 * log((double)n + 1) / log((double)max + 1), n,
					evs[0] ? "\\n" : "", evs);
			} else {
				fprintf(f,
					" [style=dashed, color=\"#aaaaaa\", fontcolor=\"#999999\", "
					"label=\"%s\"];\n",
					fig);
			}
		}
	}
	fputs("}\n", f);
	return ferror(f) ? -1 : 0;
}
