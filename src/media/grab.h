/* One picture as RGB24: a still image file, or the frame of a video shown at a given time.
 * Decoding goes through libavformat/libavcodec and the conversion through libswscale, so any
 * format FFmpeg reads works (grayscale, palette, alpha, 16-bit, odd sizes). */
#ifndef ES_GRAB_H
#define ES_GRAB_H

#include <stdint.h>

typedef struct {
    uint8_t *rgb;     /* RGB24 pixels, row r at rgb + r * stride; owned, freed by es_frame_free */
    int width, height;
    int stride;       /* bytes per row, 3 * width */
    double time;      /* presentation time of the frame, seconds from the start (0 for stills) */
    double duration;  /* of the file in seconds when known, else 0 */
} es_frame;

/* Largest picture accepted, in pixels (8K UHD is 33 million). */
#define ES_GRAB_MAX_PIXELS 100000000LL

/* Decodes the frame of `path` shown at `at` seconds (the last frame whose time is <= at; the
 * first frame when at is 0; a still image only has time 0) into *out, which the caller frees
 * with es_frame_free. Returns 0, or -1 with one error line: missing/unreadable file, no picture
 * in it (audio only, text), `at` negative or past the end, picture over ES_GRAB_MAX_PIXELS,
 * corrupt data. On failure *out is left empty. */
int es_grab_frame(const char *path, double at, es_frame *out);

/* Frees the pixels and zeroes the struct. Safe on a zeroed struct. */
void es_frame_free(es_frame *f);

#endif
