/* Standard MIDI File (SMF) writer and reader for es_score.
 *
 * Writing: type 1, 960 ticks per quarter note. Track 0 is the conductor (4/4 time signature, the
 * score's tempo map, chord names as marker events); bars restart at every tempo change, so a
 * stretch between tempo changes that is not whole bars ends with a shorter bar (e.g. 2/4, 3/8)
 * and the next tempo change is a downbeat. Then one named track per instrument that has
 * notes, with its GM program (drums on channel 10, no program change). Seconds are converted to
 * ticks through the tempo map as the reader will convert them back, so every time survives a
 * write/read round trip within half a tick. Same score => same bytes.
 *
 * Reading: types 0 and 1, running status, meta and SysEx events, tempo changes in any track,
 * SMPTE division. Every length is checked against the bytes present: a damaged file gives one
 * error line, never a crash. */
#ifndef ES_MIDI_H
#define ES_MIDI_H

#include <stddef.h>
#include <stdint.h>

#include "music/score.h"

#define ES_MIDI_PPQ 960

/* Encodes s as an SMF in a newly allocated buffer (*buf, *len); the caller frees *buf with free().
 * Returns 0, or -1 (bad note or tempo, out of memory) with *buf NULL. */
int es_midi_write_mem(const es_score *s, uint8_t **buf, size_t *len);

/* Writes s to path through a temporary file that is renamed into place (no partial file on
 * failure). Returns 0 or -1 with an error naming the path. */
int es_midi_write(const es_score *s, const char *path);

/* Decodes an SMF held in memory into *out (which must be zeroed or freed; it is overwritten).
 * `name` is used in error messages. Notes are mapped to instruments by channel 10 (drums) or GM
 * program family; chords come from marker events written by es_midi_write; duration is the time
 * of the last end-of-track. Notes are sorted (es_score_sort). Returns 0, or -1 with *out empty. */
int es_midi_read_mem(const uint8_t *data, size_t len, const char *name, es_score *out);

/* Reads the SMF at path into *out as es_midi_read_mem does. Files over 64 MiB are refused. */
int es_midi_read(const char *path, es_score *out);

/* A track name (matched without regard to case against the track's name event) and the
 * instrument its notes take, whatever their program or channel. */
typedef struct {
    const char *name;
    es_instrument instrument;
} es_midi_track_map;

/* As es_midi_read_mem / es_midi_read, with notes of tracks named in map (n_map entries, may be
 * NULL) given that map's instrument. */
int es_midi_read_mapped_mem(const uint8_t *data, size_t len, const char *name, const es_midi_track_map *map,
                            size_t n_map, es_score *out);
int es_midi_read_mapped(const char *path, const es_midi_track_map *map, size_t n_map, es_score *out);

/* Pitch class (0..11) of the root at the start of a chord name such as "F#m7" or "Bbmaj7",
 * or -1 when the name does not start with a note letter. */
int es_chord_name_root(const char *name);

#endif
