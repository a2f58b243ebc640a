/* Objective metrics for any composer's score (definitions in docs/metrics.md): how well harmony
 * lands on the boundaries, which key and mode the notes imply, and rhythm/texture figures that
 * follow arousal. All functions are pure and thread safe. */
#ifndef ES_METRICS_H
#define ES_METRICS_H

#include <stddef.h>

#include "music/score.h"

#define ES_CHORD_WINDOW 0.05 /* seconds: >= 3 pitched onsets this close form a chord onset */

typedef struct {
    double duration;           /* seconds (the score's, else its last note end) */
    size_t n_notes;
    size_t n_boundaries;
    double hit_rate_1s;        /* share of boundaries with a chord onset within 1 s (EMSYNC); NaN if none */
    double hit_rate_100ms;     /* the same within 0.1 s; NaN if no boundaries */
    int key_tonic;             /* 0..11 (C = 0), -1 when there are no pitched notes */
    int key_major;             /* 1 major, 0 minor */
    double key_corr;           /* Pearson correlation of the duration-weighted pitch classes with that key's profile */
    double majorness;          /* best major correlation minus best minor correlation, in [-2, 2] */
    double tempo_bpm;          /* time-weighted mean of the tempo map (120 when it is empty) */
    double tempo_ioi_bpm;      /* tempo guessed from the notes alone (dominant inter-onset interval); NaN if < 2 onsets */
    double note_density;       /* note onsets per second, all instruments */
    double mean_velocity;      /* 1..127; NaN without notes */
    double mean_pitch;         /* register: mean MIDI pitch of the pitched notes; NaN without any */
    double polyphony;          /* mean count of sounding pitched notes while any sounds */
    double pc_entropy;         /* bits, Shannon entropy of the pitched notes' pitch-class counts */
    double scale_consistency;  /* largest share of pitched notes inside one major (= natural minor) scale */
    double groove_consistency; /* 1 - mean Hamming distance between consecutive bars' onset grids */
    double empty_beat_rate;    /* share of beats of the tempo map with no onset */
} es_metrics;

/* Computes every metric of s against the boundaries (ascending seconds; may be NULL when
 * n_boundaries is 0). Returns 0, or -1 when the score has no duration and no notes. */
int es_metrics_compute(const es_score *s, const double *boundaries, size_t n_boundaries, es_metrics *m);

/* Krumhansl-Kessler key of a pitch-class weight vector. Writes tonic 0..11, major 1/0, the best
 * correlation and the major-ness (best major minus best minor correlation). Returns 0, or -1
 * when the weights are all equal (no key). */
int es_key_find(const double weights[12], int *tonic, int *major, double *corr, double *majorness);

/* Shannon entropy in bits of a histogram of n bins (0 when empty). */
double es_entropy_bits(const double *hist, size_t n);

/* 1 if a chord onset (>= 3 pitched onsets within ES_CHORD_WINDOW, timed by its first onset) lies
 * within tol seconds of t, else 0. `onsets` are the sorted start times of pitched notes. */
int es_chord_onset_near(const double *onsets, size_t n, double t, double tol);

/* Spearman rank correlation of x and y (ties get their mean rank). NaN when n < 2 or a side is
 * constant. */
double es_spearman(const double *x, const double *y, size_t n);

/* Quarter notes elapsed at time t under the score's tempo map (120 bpm when it is empty). */
double es_beats_at(const es_score *s, double t);

#endif
