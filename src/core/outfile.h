/* Outputs are written to a temporary file beside the destination and renamed into place, so a
 * failure or an interrupt never leaves a partial file and never touches an existing one. */
#ifndef ES_OUTFILE_H
#define ES_OUTFILE_H

#include <stdio.h>

typedef struct {
    char *final_path;  /* where the file goes on commit */
    char *temp_path;   /* where it is being written; same directory, same extension */
    int fd;            /* open descriptor of temp_path, or -1 */
    int slot;          /* its entry in the signal clean-up table */
} es_outfile;

/* Creates an empty temporary file next to final_path (keeping its extension, so format guessing
 * by name still works). Returns 0, or -1 with an error naming the path (an empty path is refused).
 * Until commit or abort, the temp file is removed if the process gets SIGINT, SIGTERM, SIGHUP or
 * SIGPIPE (signals the process was started with ignored stay ignored); the process then dies of
 * that signal. Up to 32 outputs may be open at once. */
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

/* Refuses a destination that is empty, is the input (in any spelling; input may be NULL), exists
 * without overwrite, is a directory, or sits in a directory that cannot be written. Returns 0 or
 * -1 with an error line. */
int es_check_destination(const char *path, const char *input, int overwrite);

/* es_check_destination for each of paths[0..n) (NULL entries skipped), and no two of them the
 * same file in any spelling ("x.mid", "./x.mid", "dir/../x.mid", a symlinked directory). */
int es_check_destinations(const char *const *paths, size_t n, const char *input, int overwrite);

/* 1 when a and b would be the same file once written (same name after resolving the directory,
 * or the same existing file), else 0. */
int es_same_destination(const char *a, const char *b);

/* Outputs committed together: each es_outset_add makes an empty temporary file beside its
 * destination and returns the temp path to write the output to (with any writer, including those
 * that go through their own temp file and rename); es_outset_commit renames them all into place
 * with the clean-up signals held off, so an interrupt leaves all of them or none; es_outset_abort
 * removes them all. Start from a zeroed struct. */
#define ES_OUTSET_MAX 8
typedef struct {
    size_t n;
    es_outfile files[ES_OUTSET_MAX];
    char *final_paths[ES_OUTSET_MAX];
    int existed[ES_OUTSET_MAX];
} es_outset;

/* Returns the temp path (owned by the set, valid until commit or abort), or NULL with an error. */
const char *es_outset_add(es_outset *s, const char *final_path);

/* Returns 0, or -1 with an error; on failure it removes the temp files and the outputs that this
 * call created (a file replaced under overwrite cannot be restored). The set is empty afterwards. */
int es_outset_commit(es_outset *s);

/* Removes every temp file of the set; existing destinations are untouched. Safe on a zeroed set. */
void es_outset_abort(es_outset *s);

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
