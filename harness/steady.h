/* steady.h -- `run --steady`: repetitions kept out of the host's slow spells.
 *
 * On a shared machine (a VM whose cores another tenant also runs) the
 * cores slow down now and then, by half for seconds at a time, and nothing
 * the guest can read says so: no steal time, the cell is simply charged
 * twice the user time for the same work. A repetition caught in such a
 * spell makes its backend look slow, and with five repetitions three
 * unlucky ones move a median. The runner therefore probes the host before
 * and after each repetition with a fixed piece of work (the canary) on
 * every core it may use, at once, and compares its time with the fastest
 * the run has seen: before, it waits while the cores are slow; after, it
 * runs the repetition again when they were. The same rule for every cell,
 * whatever its backend, so no backend is favoured; the row says how slow
 * the host read (host_slow) and how many runs were thrown away (retakes).
 * docs/metrics.md has both columns, docs/usage.md the option. */
#ifndef HB_STEADY_H
#define HB_STEADY_H

#include <signal.h>

/* A probe slower than this times the fastest seen means a slow spell: a
 * quiet host reads 1.00-1.10, a spell 1.5-2.3 (measured here, both cores,
 * 2 minutes of probes; docs/usage.md). */
#define HB_STEADY_LIMIT 1.25
/* Before a repetition, wait at most this long for the spell to end
 * (probing every HB_STEADY_POLL_S), then run it anyway. */
#define HB_STEADY_WAIT_S 30.0
#define HB_STEADY_POLL_S 0.25
/* After a repetition read slow, run it again at most this many times; the
 * last run is kept whatever it read. */
#define HB_STEADY_RETAKES 3

typedef struct hb_host hb_host;

/* The cores this process may run on, with no probe yet; NULL when out of
 * memory or the affinity cannot be read (one line said why). */
hb_host *hb_host_open(void);
void hb_host_close(hb_host *h);
/* The canary on every core at once: the slowest core's time over its
 * fastest of the last minute or two (>= 1; the first probe reads 1). */
double hb_host_probe(hb_host *h);

/* Before a repetition: probe, and while the host reads slow, wait and
 * probe again (hb_steady_wait), until *stop is set; the last reading. */
double hb_steady_settle(hb_host *h, volatile sig_atomic_t *stop);

/* The runner's two decisions. Before a repetition: whether to wait and
 * probe again (ratio read, seconds waited so far). After it: whether to
 * run it again (ratio read, retakes so far). */
int hb_steady_wait(double ratio, double waited_s);
int hb_steady_retake(double ratio, int retakes);

#endif
