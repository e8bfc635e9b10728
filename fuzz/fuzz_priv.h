/* synfin fuzz internals: the pieces the `synfin fuzz|minimize|triage` commands and the
 * per-target libFuzzer entries (fuzz_*.c) are built from. fuzz.h is the public face.
 *
 * Roles of the files (see also fuzz/README.md):
 *   mutate.c    structure-aware mutation and crossover of binary scenarios
 *   cover.c     transition coverage as libFuzzer extra counters; campaign statistics
 *   core.c      the one fuzz loop body shared by every entry, and the libFuzzer hooks
 *   finding.c   a divergence or crash becomes OUT/<sig-hash>/ (scn, pcap, txt, json)
 *   minimize.c  shrink a scenario while it keeps its signature
 *   recover.c   take control back when an in-process stack crashes (lwIP, libslirp)
 *   triage.c    group findings and libFuzzer crash files by signature
 *   cli.c       the command line: campaigns (embedding libFuzzer), minimize, triage
 *
 * Nothing here prints or exits except cli.c.
 */
#ifndef SYNFIN_FUZZ_PRIV_H
#define SYNFIN_FUZZ_PRIV_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "report.h"
#include "runner.h"
#include "scenario.h"
#include "target.h"

/* The longest wait a campaign plays on a virtual-time target (see core.c). */
#define SFF_MAX_VWAIT_MS 300000u
/* The most octets one SEND of a fuzz input asks for. Three full segments of a 1460-octet
 * MSS and a part of a fourth: enough for segmentation, Nagle, sender SWS avoidance,
 * window edges, zero-window probes and a go-back-N resend of several segments. A larger
 * SEND reaches no other state or rule of the lifecycle; it only lengthens the copy and
 * checksum of the stack's send queue (64 KiB SENDs were a quarter of a campaign's time on
 * lwIP). Hand-written scenarios (run, replay) are not bounded. */
#define SFF_MAX_SEND 4096u

/* ---- mutate.c ---- */

/* A byte-level mutator with libFuzzer's LLVMFuzzerMutate contract: mutate data[0..size)
 * in place, never past max_size, return the new size. */
typedef size_t (*sff_bytes_fn)(uint8_t *data, size_t size, size_t max_size);

/* Structure-aware mutation of the binary scenario in data[0..size): decode, apply one to
 * three operators chosen by seed (or, now and then, the byte mutator `bytes`; NULL uses
 * a small built-in one), encode. Writes at most max_size bytes; returns the new size
 * (0 only when max_size is 0). The same (data, size, max_size, seed) always gives the
 * same output when the byte mutator is deterministic. */
size_t sff_mutate(uint8_t *data, size_t size, size_t max_size, unsigned int seed,
		  sff_bytes_fn bytes);

/* Crossover of two binary scenarios into out (at most max_out bytes): splice a prefix of
 * one with a suffix of the other, or insert a run of events of one into the other.
 * Deterministic for a seed; returns the size written. */
size_t sff_crossover(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2, uint8_t *out,
		     size_t max_out, unsigned int seed);

/* Operators by name, for tests and statistics. */
size_t sff_mut_op_count(void);
const char *sff_mut_op_name(size_t i);
/* Apply operator i once to s with the given seed. 0 if it changed s, -1 if it could not
 * apply (e.g. no event to delete). Keeps s valid (at most SFH_MAX_EVENTS events). */
int sff_mut_apply(size_t i, struct sfh_scenario *s, uint64_t seed);

/* Drop the hand-written assertions (`out`, `expect state`): the fuzzer's expectations
 * come from the model, and an assertion copied into a mutated case would be wrong. */
void sff_scn_strip(struct sfh_scenario *s);

/* Fit a decoded scenario to a target with capabilities caps (SFH_CAP_*): assertions
 * stripped, a role it can play, no wait longer than max_wait_ms on a real-time target
 * or SFF_MAX_VWAIT_MS on a virtual-time one, no SEND of more than SFF_MAX_SEND octets.
 * What every fuzz input goes through. */
void sff_scn_fit(struct sfh_scenario *s, uint32_t caps, uint32_t max_wait_ms);

/* ---- cover.c ---- */

/* Campaign statistics, shared by every process of a campaign (libFuzzer's -jobs and
 * -fork workers) through a file mapped MAP_SHARED; plain memory when there is none. */
struct sff_stats;
/* Map (creating when create is set) the statistics file at path, or anonymous memory
 * when path is NULL. NULL on failure with the reason in err. */
struct sff_stats *sff_stats_open(const char *path, int create, char *err, size_t errlen);
void sff_stats_close(struct sff_stats *st); /* NULL ok; never unlinks the file */

struct sff_stats_view {
	uint64_t execs, findings, errors, dups;
	uint32_t states, transitions, tuples, rules;
};
void sff_stats_read(const struct sff_stats *st, struct sff_stats_view *v);
/* A worker that cannot write (a full disk) records why; the command stops the campaign
 * and prints it. The first reason stays. NULL st: nothing. */
void sff_stats_fail(struct sff_stats *st, const char *reason);
/* 1 and the reason if a worker recorded a failed write, else 0. */
int sff_stats_failed(const struct sff_stats *st, char *reason, size_t cap);

/* Per-process coverage state: the extra counters are process-wide (libFuzzer reads one
 * section), so there is one of these per process, owned by the core. */
struct sff_cover;
struct sff_cover *sff_cover_new(struct sff_stats *st); /* NULL on allocation failure */
void sff_cover_free(struct sff_cover *c);
/* The runner's cover callback (ctx: struct sff_cover *). */
void sff_cover_step(void *ctx, const struct sfh_cover *c);
/* Add to the shared counters: n executions, findings, errors, duplicate findings. */
void sff_stats_add(struct sff_stats *st, uint64_t execs, uint64_t findings, uint64_t errors,
		   uint64_t dups);

/* ---- minimize.c ---- */

/* The predicate context of minimisation: run on target t with profile prof, isolated in
 * a child process when isolate is set (for crashes and hangs of in-process stacks). */
struct sff_runctx {
	struct sfh_runner *runner;
	struct sfh_target *target;
	const struct sfo_profile *profile;
	int isolate;
	unsigned timeout_s;	  /* for isolated runs */
	uint32_t next_case;	  /* case numbers handed out, incremented per run */
	uint32_t max_wait_ms;	  /* 0: waits as written; else clamp (real-time targets) */
	struct sfh_target *model; /* opened on demand to name a crash's step; owned */
	unsigned min_seconds;	  /* minimisation stops after this long (0: runs bound only) */
	int recover; /* in-process runs are guarded (sff_run_recover): an abort is a crash */
};
/* Close what the context opened on demand (not runner, target). */
void sff_runctx_dispose(struct sff_runctx *ctx);

/* sfh_run_isolated, and when the stack crashed or hung, the verdict names the step it
 * died in: the state before it and its event class (replayed on the model), so distinct
 * crashes get distinct signatures. o->trace, if set, is called as usual. */
int sff_run_isolated_sig(struct sff_runctx *ctx, const struct sfh_scenario *s,
			 const struct sfh_run_opts *o, struct sfh_result *res);

/* Run s once on ctx (a fresh case number). Returns sfh_run's code. */
int sff_run_once(struct sff_runctx *ctx, const struct sfh_scenario *s, struct sfh_result *res);

/* Shrink *s in place while its run keeps signature hash `want`: cut after the diverging
 * event, delete runs of events then single events, then simplify fields (defaults for
 * seq/ack, offsets toward 0, len 0, options dropped, waits shortened). At most max_runs
 * runs (0: a default bound). Returns the runs spent, or -1 if the scenario does not show
 * the signature in the first place. */
int sff_minimize(struct sff_runctx *ctx, struct sfh_scenario *s, uint64_t want, int max_runs);

/* ---- finding.c ---- */

struct sff_finding_info {
	const char *out_dir;	 /* OUT: the finding becomes OUT/<sig-hash>/ */
	const char *target_spec; /* "model:fault=no-time-wait" */
	const char *origin;	 /* "synfin fuzz", "libFuzzer crash file crash-..." */
	const uint8_t *input;	 /* the raw input that found it (optional) */
	size_t input_len;
	mode_t input_mode;    /* input.bin's mode at most (its source's); 0: 0644 */
	uint32_t orig_events; /* events before minimisation */
};

/* Outcomes of sff_finding_write. */
enum { SFF_FINDING_NEW = 0, SFF_FINDING_DUP = 1, SFF_FINDING_UNREPRO = 2, SFF_FINDING_ERR = -1 };

/* The directory name of a signature hash (16 hex digits) into buf[17]. */
void sff_sig_dirname(uint64_t sig_hash, char buf[17]);

/* Verify and write one finding: s (already minimised) is printed as scenario.scn and
 * parsed back, and that text is re-run at case 0 with a trace and pcap, and at another
 * case number (in-process, where every case starts as in a fresh process; isolated when
 * ctx->isolate); if either does not show the signature, up to 10 runs in all, the rest
 * in fresh child processes as `synfin run --fork` runs it, measure how often it does:
 * report.json's "repro_rate" ("2/2", "7/10"), and the finding is flaky. One that never
 * shows it is not written: SFF_FINDING_UNREPRO. The directory is assembled under a temporary name
 * and renamed into place, so concurrent workers that find the same signature produce exactly one
 * directory: SFF_FINDING_DUP when it already exists. `first` is the run that found it. */
int sff_finding_write(const struct sff_finding_info *fi, struct sff_runctx *ctx,
		      const struct sfh_scenario *s, const struct sfh_result *first, char *err,
		      size_t errlen);

/* 1 if OUT/<hash> exists already (a finding some worker recorded). */
int sff_finding_exists(const char *out_dir, uint64_t sig_hash);

/* ---- trap.c ---- */

/* SYNFIN_FUZZ_TRAP: report res on standard error, sanitizer-style, and abort through
 * stack frames named after its signature (rule, kind, state and event), so an engine
 * that groups crashes by their top frames sees one crash per signature. */
__attribute__((noreturn)) void sff_trap(const char *target, const struct sfh_result *res);

/* ---- triage.c ---- */

/* One signature group. */
struct sff_group {
	char signature[160];
	char rule[64], severity[16], kind[32];
	char example[4096];
	unsigned count, crash_files, flaky;
	char cause[256];  /* its root-cause key (sfh_cause_key) */
	char detail[240]; /* the example's detail text */
	char repro[24];	  /* the example's repro_rate ("7/10"), if its report has one */
	unsigned events;  /* the example's scenario length (0: unknown) */
	int baselined;	  /* listed in the baseline by signature or hash */
	char hash[17];
	const char *known; /* the pin (file name) with its cause, rule and kind, or NULL */
};

/* One root-cause group: signatures whose findings differ from the model in the same
 * way, whatever path led there (cause.h). */
struct sff_cause {
	char key[256];
	char severity[16], kind[32];
	const struct sff_group *example; /* the smallest example (fewest events) */
	unsigned findings, sigs, flaky;
	char known[128];     /* a corpus/regress pin of some of its signatures, or "" */
	unsigned known_sigs; /* signatures with a pin */
	int baselined;	     /* its key is in the baseline, or every signature in it */
	int is_new;	     /* some signature is neither pinned nor baselined */
};

/* A pinned regression behaviour: its file's name, the rule and kind of its `#! expect`
 * line, and the cause key its run showed. A signature is known when a pin has its
 * cause key, rule and kind. */
struct sff_pin {
	char file[128];
	char key[256];
	char rule[64], kind[32];
};

struct sff_triage {
	struct sff_group *g;
	size_t n, cap;
	unsigned unknown;    /* crash files whose signature could not be found */
	struct sff_cause *c; /* after sff_triage_causes: sorted by severity, then size */
	size_t nc;
	struct sff_pin *pins;
	size_t npins;
	char **baseline; /* lines of the baseline file */
	size_t nbaseline;
};

/* Scan dirs for finding directories (OUT/<hash>/report.json) and libFuzzer artifacts
 * (crash-*, timeout-*, oom-*, leak-*, slow-unit-*). Artifacts are decoded and run
 * isolated on ctx (if ctx is NULL they count as unknown); when `record` is set each one
 * also becomes a finding directory in its own dir (info supplies target and origin).
 * Returns 0, or -1 with err set. */
int sff_triage_scan(struct sff_triage *tr, int ndirs, char **dirs, struct sff_runctx *ctx,
		    const char *target_spec, int record, char *err, size_t errlen);
void sff_triage_sort(struct sff_triage *tr); /* by count, then signature */

/* The pinned behaviours of a regression corpus: every *.scn under dir whose `#! expect`
 * line for target_spec is a divergence is run (isolated) on ctx; when it meets its line,
 * the cause key of its run is kept as a pin. Returns the number of pins, or -1 with err
 * set (dir unreadable). */
int sff_triage_pins(struct sff_triage *tr, struct sff_runctx *ctx, const char *target_spec,
		    const char *dir, char *err, size_t errlen);

/* Read a baseline file: one entry per line, a cause key, a signature or a signature
 * hash; '#' starts a comment; blank lines are skipped. Returns 0, or -1 with err set. */
int sff_triage_baseline(struct sff_triage *tr, const char *path, char *err, size_t errlen);

/* Group the signatures into root causes (tr->c), label them known (a pin with the same
 * key) or baselined, and sort them: severity (MUST first), then findings, then key.
 * Returns 0, or -1 (out of memory). */
int sff_triage_causes(struct sff_triage *tr);

/* 1 if some signature of the cause is neither known nor baselined. */
int sff_cause_is_new(const struct sff_cause *c);

/* The rules seen in a cause's findings, most frequent first: "rule N, rule N, ...". */
void sff_cause_rules(const struct sff_triage *tr, const struct sff_cause *c, char *buf, size_t cap);

/* The whole triage as one JSON object (docs/report-schema.md), and as Markdown. */
void sff_triage_json(FILE *f, const struct sff_triage *tr);
void sff_triage_markdown(FILE *f, const struct sff_triage *tr);

void sff_triage_free(struct sff_triage *tr);

/* Add the finding whose report.json text (NUL-terminated, untrusted) is json, in
 * directory dir: 0 added, 1 not a finding (no signature), -1 out of memory. */
int sff_triage_add_report(struct sff_triage *tr, const char *json, const char *dir);

/* Run the bytes of a libFuzzer artifact isolated and fill res (a crash or hang verdict
 * names the step where the stack died: state before and event class, as far as known). */
int sff_run_artifact(struct sff_runctx *ctx, const uint8_t *data, size_t len,
		     struct sfh_scenario *s, struct sfh_result *res);

/* ---- recover.c ---- */

/* Prepare target t for in-process recovery from its crashes (lwIP's assertions, faults in
 * libslirp): call between cases, e.g. right after opening it. 0, or -1 with why in err
 * (another target, a sanitizer build, lwIP's layout not as expected): then
 * sff_run_recover is sfh_run. */
int sff_recover_enable(struct sfh_target *t, char *err, size_t errlen);

/* sfh_run, except that when the stack aborts mid-run on a target prepared above, control
 * comes back here, the stack is restored (no connection; the aborted case's memory is
 * freed), and res gets the crash verdict an isolated run gives (sfh_run_isolated):
 * named after the step in progress, kind crash, rule `stack`. Returns sfh_run's code, or
 * SFF_RECOVERED. o->progress, if set, is used and left at the step that aborted. */
#define SFF_RECOVERED 1
/* The same guard around any work on target t (prepared above): fn(ctx), and if the
 * stack aborts inside it, t restored. 0, SFF_RECOVERED, or -1 if no snapshot could be
 * restored. Without recovery in the build it is fn(ctx). */
int sff_call_recover(struct sfh_target *t, void (*fn)(void *), void *ctx);
/* An in-process run on ctx (sfh_run, or sff_run_recover when ctx->recover, a recovered
 * abort counting as a completed run with its crash verdict). Returns 0 or -1. */
int sff_run_inproc(struct sff_runctx *ctx, const struct sfh_scenario *s,
		   const struct sfh_run_opts *o, struct sfh_result *res);

/* The default action for the crash signals (ABRT, SEGV, BUS, ILL, FPE) around each
 * isolated re-run (sff_run_isolated_sig): a child inherits the handlers, and libFuzzer's
 * would write a crash file of the worker's current input and exit instead of dying by
 * the signal. In between, in-process runs keep the process's own (slirp's recovery is
 * one, recover.c). Restore them afterwards. */
#define SFF_NCRASHSIG 5
struct sff_sigsave {
	struct sigaction sa[SFF_NCRASHSIG];
	int ok[SFF_NCRASHSIG];
};
void sff_crash_signals_default(struct sff_sigsave *save);
void sff_crash_signals_restore(const struct sff_sigsave *save);
int sff_run_recover(struct sfh_runner *r, struct sfh_target *t, const struct sfh_scenario *s,
		    const struct sfh_run_opts *o, struct sfh_result *res);
/* From a signal handler (a watchdog; uc its ucontext): end the guarded run in progress as
 * if the stack had aborted (sff_run_recover then returns SFF_RECOVERED); nothing if none
 * runs, or, on slirp, if the signal did not find libslirp's code running. */
void sff_recover_interrupt(void *uc);
/* 1 if this build recovers in-process from the crashes of the target spec names. */
int sff_recover_can(const char *spec);

/* ---- core.c ---- */

struct sff_core_opts {
	const char *target_spec; /* required */
	const char *out_dir;	 /* findings; NULL: record nothing */
	const char *profile;	 /* NULL: the target's own profile */
	const char *stats_path;	 /* shared statistics file; NULL: private */
	uint32_t max_wait_ms;	 /* clamp waits on real-time targets (0: 1000) */
	int no_minimize;
	int trap;    /* abort() on a new finding (OSS-Fuzz style reporting) */
	int recover; /* recover from the target's aborts in-process (recover.c), if it can */
};

/* Initialise the process's fuzz core; the target itself is opened lazily on the first
 * input (libFuzzer's fork/jobs supervisors never run one). Returns 0, or -1 with err. */
int sff_core_init(const struct sff_core_opts *o, char *err, size_t errlen);
/* The body of LLVMFuzzerTestOneInput. Returns 0, or SFF_CORE_FATAL when the target
 * cannot be opened (reason from sff_core_error()). Divergences are recorded, never fatal. */
#define SFF_CORE_FATAL (-2)
/* ... or SFF_CORE_REJECT for an input the stack aborted on (recovered in-process): like
 * a crashing input, it must not join the corpus (libFuzzer's -1). */
#define SFF_CORE_REJECT (-1)
int sff_core_one(const uint8_t *data, size_t size);
/* Decode a fuzz input as the core runs it: the binary form, with ISNs (has_isn) taken
 * from a hash of the bytes. Every path from raw bytes to a run goes through it. */
void sff_scn_from_input(const uint8_t *data, size_t size, struct sfh_scenario *s);
const char *sff_core_error(void);
void sff_core_fini(void);

/* For the per-target entries: initialise from the environment (SYNFIN_FUZZ_TARGET
 * overrides `target`, SYNFIN_FUZZ_OUT the findings directory, SYNFIN_FUZZ_TRAP=1 makes a
 * new finding abort). Returns 0 or -1. */
int sff_entry_init(const char *target);

/* ---- libFuzzer's interface ----
 * Declared here because the project builds with -Wmissing-prototypes. LLVMFuzzerMutate
 * is weak: it is absent when libFuzzer is not linked (tools, tests), and the mutator
 * then uses its own byte mutation. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2,
				 uint8_t *out, size_t max_out, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size) __attribute__((weak));
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *data, size_t size));

/* ---- small helpers shared by the files above (finding.c) ---- */

/* mkdir -p; 0 or -1 (errno set). */
int sff_mkdirs(const char *path);
/* Whole regular file into a malloc'd buffer (NUL-terminated); NULL on error. A link
 * another user planted to a file it does not own is not followed (safeio.h). */
uint8_t *sff_read_file(const char *path, size_t *len, size_t max);
/* Write the whole buffer to path through a temporary name created O_EXCL|O_NOFOLLOW,
 * checked, and renamed. 0 or -1 (errno set). */
int sff_write_file(const char *path, const void *data, size_t len);

#endif
