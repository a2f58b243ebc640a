/* Progress on stderr: a bar with stage, percent and ETA when stderr is a terminal, a plain line
 * per stage and every 25% otherwise. Silenced by es_progress_quiet(1). Not thread safe: call it
 * from the thread that drives the pipeline. */
#ifndef ES_PROGRESS_H
#define ES_PROGRESS_H

void es_progress_quiet(int quiet);
int es_progress_is_quiet(void);

/* Starts a named stage (e.g. "decode"). */
void es_progress_stage(const char *name);

/* Reports the current stage's completion in [0, 1] (values outside are clamped, NaN counts as 0).
 * Cheap to call often. */
void es_progress_update(double fraction);

/* Ends the current stage. */
void es_progress_done(void);

/* Ends a half-drawn bar's line, so that an error message printed next starts on its own line. */
void es_progress_end_line(void);

/* Prints one informational line (e.g. where the result is) unless quiet. */
void es_progress_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic seconds, for stage timings. */
double es_now(void);

#endif
