/* outfile.h -- what every subcommand that writes files shares: the names of
 * a results file's companions, the rule that no output is ever one of the
 * inputs, and temporary files that a Ctrl-C does not leave behind.
 *
 * Identity is the file's, not its spelling: two paths name the same file
 * when stat(2) gives the same device and inode, so `./x.csv`, `x.csv`, a
 * symlink and a hard link are all caught; an output that does not exist yet
 * is compared by its directory's identity and its name. Functions return 0 or an errno
 * value; on failure they write one line to `why` (no prefix). */
#ifndef HB_OUTFILE_H
#define HB_OUTFILE_H

#include <stddef.h>

/* The companions of a results file NAME.csv, the order used everywhere. */
enum { HB_COMP_RSS, HB_COMP_PAUSES, HB_COMP_JSON, HB_COMP_LOG, HB_NCOMP };
/* ".rss.csv", ".pauses.csv", ".json", ".log" (the workloads' own output,
 * appended to by `heapbench run`) */
extern const char *const hb_comp_suffix[HB_NCOMP];

/* NAME.csv (or NAME without .csv) -> NAME + suffix into buf. ENAMETOOLONG
 * when the result does not fit `len` or its last component is longer than
 * the file system allows (NAME_MAX), with `why` naming it. */
int hb_companion_path(const char *csv, const char *suffix, char *buf, size_t len, char *why, size_t wlen);

/* Whether writing `out` could destroy an input: refuses (EEXIST, `why` says
 * which input) when `out` is, by device and inode, one of `ins` or one of
 * their companions NAME.rss.csv, NAME.pauses.csv and NAME.log, and NAME.json too
 * unless `json_ok` (`heapbench json IN.csv IN.json` rebuilds IN's own JSON,
 * which is derived from IN and nothing else). */
int hb_out_not_input(const char *out, const char *const *ins, size_t nins, int json_ok, char *why, size_t len);

/* Temporary files: hb_tmp_create makes `target`.tmpXXXXXX beside target
 * (mode 0644) and returns its fd, its name in *tmp (malloc'd), and remembers
 * it; until hb_tmp_forget, a SIGINT, SIGTERM or SIGHUP removes every
 * remembered file before the process dies of that signal. -1 with errno set
 * on failure. */
int hb_tmp_create(const char *target, char **tmp);
/* Remembers a temporary file named by the caller (a figure needs its
 * extension last), removed on those signals until hb_tmp_forget; `path`
 * must stay valid until then. 0 or EMFILE. */
int hb_tmp_remember(char *path);
/* The file is renamed or removed: no longer the handler's to remove. */
void hb_tmp_forget(const char *tmp);

#endif
