/* Outputs are written to a temporary file beside the destination and renamed into place, so a
 * failure or an interrupt never leaves a partial file and never touches an existing one. */
#ifndef ES_OUTFILE_H
#define ES_OUTFILE_H

#include <stdio.h>

typedef struct {
    char *final_path;  /* where the file goes on commit */
    char *temp_path;   /* where it is being written; same directory, same extension */
    int fd;            /* open descriptor of temp_path, or -1 */
} es_outfile;

/* Creates an empty temporary file next to final_path (keeping its extension, so format guessing
 * by name still works). Returns 0, or -1 with an error naming the directory. While open, the
 * temp file is removed if the process gets SIGINT/SIGTERM/SIGHUP. */
int es_outfile_open(es_outfile *o, const char *final_path);

/* Closes the descriptor (if still open) and renames the temp file onto final_path.
 * Returns 0 or -1; on failure the temp file is removed. */
int es_outfile_commit(es_outfile *o);

/* Removes the temp file and frees the struct's strings. Safe after commit and on a zeroed struct. */
void es_outfile_abort(es_outfile *o);

/* Writes a text or binary file through a temporary file: calls write_fn(f, user) on a stream
 * open on the temp file, then renames it into place. Returns 0, or -1 with an error naming
 * path (nothing left behind). */
int es_write_stream(const char *path, void (*write_fn)(FILE *f, const void *user), const void *user);

/* Refuses a destination that is the input (in any spelling), exists without overwrite, is a
 * directory, or sits in a directory that cannot be written. Returns 0 or -1 with an error line. */
int es_check_destination(const char *path, const char *input, int overwrite);

/* 1 when both paths name the same existing file (symlinks, "./", hard links), else 0. */
int es_same_file(const char *a, const char *b);

/* 1 when path exists (any type), else 0. */
int es_path_exists(const char *path);

/* Returns a newly allocated "<dir-of-base-or-cwd>/<stem><suffix>" where stem is the file name
 * of `input` without its extension. With dir NULL the result goes in the current directory. */
char *es_derive_path(const char *dir, const char *input, const char *suffix);

/* Extension of path without the dot, lower case, into buf (empty when none). */
void es_path_ext(const char *path, char *buf, int size);

#endif
