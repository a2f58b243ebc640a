/* The list of jobs of a batch: the videos of a folder, or the rows of a manifest in CSV (a header
 * row naming the columns: input, output, then any score option) or JSON Lines (one object per
 * line with the same keys). A bad row does not spoil the others: it keeps its error and line. */
#ifndef ES_BATCH_MANIFEST_H
#define ES_BATCH_MANIFEST_H

#include <stddef.h>

typedef struct {
    char *name;   /* the option's long name, without "--" */
    char *value;  /* its value as text; for a flag "1" (on) or NULL (off) */
} es_batch_option;

typedef struct {
    int line;                 /* 1-based line in the manifest; 0 for a folder's file */
    char *input;              /* resolved against the manifest's folder; NULL when missing */
    char *output;             /* as given (resolved), or NULL for the default */
    es_batch_option *options;
    size_t n_options;
    char *error;              /* why the row cannot run, or NULL */
} es_batch_row;

typedef struct {
    es_batch_row *rows;
    size_t n;
} es_batch_list;

/* Largest manifest read, and most rows. */
#define ES_BATCH_MAX_BYTES (64u << 20)
#define ES_BATCH_MAX_ROWS 1000000

/* Reads a manifest. The format comes from the extension (.csv; .jsonl, .ndjson, .json), else from
 * the first character. Relative paths in input, output and the path options (path_option(name)
 * says which) are taken from the manifest's folder. Returns 0, or -1 with an error for a file
 * that cannot be a manifest at all (unreadable, empty, too big, a CSV header without "input");
 * errors of single rows stay in their rows. */
int es_batch_read_manifest(const char *path, int (*path_option)(const char *name), es_batch_list *out);

/* Lists the video files of a folder (by extension, not hidden, not an earlier result named
 * *.emsync.*), sorted by name. Returns 0 or -1 with an error. */
int es_batch_read_folder(const char *dir, es_batch_list *out);

/* 1 when the file name's extension is one of a video container's. */
int es_batch_is_video_name(const char *name);

void es_batch_list_free(es_batch_list *l);

/* Sets row->error to a formatted message (the first error of a row wins). */
void es_batch_row_fail(es_batch_row *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
