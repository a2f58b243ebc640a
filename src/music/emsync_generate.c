/* EMSYNC sampling loop, boundary bookkeeping and window management; see emsync_generate.h. */
#include "music/emsync_generate.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/progress.h"
#include "core/rng.h"
#include "eval/metrics.h"
#include "emotion/datadir.h"
#include "music/emsync_vocab.h"

void es_emsync_options_default(es_emsync_options *o)
{
    *o = (es_emsync_options){.model = NULL, .exact = 0, .temperature = 0, .top_p = 0, .candidates = 0};
}

static int released_shapes(const es_nn_hparams *hp)
{
    return hp->n_layers == 11 && hp->d_model == 512 && hp->n_heads == 8 && hp->d_ff == 2048 &&
           hp->context == 1216 && hp->vocab == ES_VOCAB_SIZE;
}

void es_emsync_default_sampling(const es_nn_hparams *hp, double *temperature, double *top_p)
{
    int released = released_shapes(hp);
    *temperature = released ? 1.35 : 1.0;
    *top_p = released ? 0.6 : 1.0;
}

int es_emsync_default_candidates(const es_nn_hparams *hp) { return released_shapes(hp) ? 1 : 3; }


void es_emsync_report_free(es_emsync_report *r)
{
    if (!r) return;
    free(r->tokens);
    memset(r, 0, sizeof *r);
}

/* ---------- sampling ---------- */

/* 1 when token i ranks before token j: higher log-probability first, then lower id. */
static int ranks_before(const double *key, int i, int j)
{
    return key[i] != key[j] ? key[i] > key[j] : i < j;
}

/* Heapsort of ids by rank; unlike qsort it never allocates (this runs once per token). */
static void sort_by_rank(int *a, int n, const double *key)
{
    for (int start = n / 2 - 1, end = n;; ) {
        int root;
        if (start >= 0) root = start--;
        else {
            if (--end <= 0) break;
            int t = a[0]; a[0] = a[end]; a[end] = t;
            root = 0;
        }
        /* sift down: a min-heap by rank leaves the best-ranked ids at the front */
        for (;;) {
            int child = 2 * root + 1;
            if (child >= end) break;
            if (child + 1 < end && ranks_before(key, a[child], a[child + 1])) child++;
            if (!ranks_before(key, a[root], a[child])) break;
            int t = a[root]; a[root] = a[child]; a[child] = t;
            root = child;
        }
    }
}

/* Fills lp with each token's weight exp(log_softmax / t - max) as SPEC §3 computes it:
 * excluded tokens and -inf give 0, NaN counts as 0 before the softmax. Returns the sum. */
static double token_weights(const float *logits, double temperature, int rep, double *lp)
{
    double mx = -INFINITY, sum = 0;
    for (int i = 0; i < ES_VOCAB_SIZE; i++) {
        double v = isnan(logits[i]) ? 0.0 : logits[i];
        /* +inf (a float16 overflow) would turn the softmax into NaN and let an excluded
         * token through; the largest finite logit keeps it the favourite instead */
        if (v == INFINITY) v = 1e300;
        if (i == ES_TOK_PAD || i == ES_TOK_START || i == ES_TOK_LESS_INSTRUMENTS || i == ES_TOK_MORE_INSTRUMENTS) v = -INFINITY;
        lp[i] = v;
        if (v > mx) mx = v;
    }
    if (mx == -INFINITY) /* every allowed logit is -inf: no preference left, treat them as equal */
        for (int i = 0; i < ES_VOCAB_SIZE; i++) {
            if (i != ES_TOK_PAD && i != ES_TOK_START && i != ES_TOK_LESS_INSTRUMENTS && i != ES_TOK_MORE_INSTRUMENTS) lp[i] = 0;
            mx = 0;
        }
    for (int i = 0; i < ES_VOCAB_SIZE; i++) sum += exp(lp[i] - mx);
    double lse = mx + log(sum);
    /* the repetition counter warms the temperature when the nucleus keeps collapsing */
    double t = temperature * (1.0 + fmax(0.0, log((rep + 1) / 4.0)) * 0.4);
    mx = -INFINITY;
    for (int i = 0; i < ES_VOCAB_SIZE; i++) {
        lp[i] = (lp[i] - lse) / t;
        if (lp[i] > mx) mx = lp[i];
    }
    sum = 0;
    for (int i = 0; i < ES_VOCAB_SIZE; i++) { lp[i] = exp(lp[i] - mx); sum += lp[i]; }
    return sum;
}

/* Max-heap of ids by rank, popped lazily: the walks below stop after the few tokens that
 * hold the mass, so sorting all 1011 each token (most of a token's cost) is not needed. */
static void sift_down(int *a, int root, int end, const double *key)
{
    for (;;) {
        int child = 2 * root + 1;
        if (child >= end) break;
        if (child + 1 < end && ranks_before(key, a[child + 1], a[child])) child++;
        if (!ranks_before(key, a[child], a[root])) break;
        int t = a[root]; a[root] = a[child]; a[child] = t;
        root = child;
    }
}

typedef struct {
    int *heap, size;
    const double *key;
} rank_heap;

static void rank_heap_init(rank_heap *h, int *ids, const double *key)
{
    *h = (rank_heap){.heap = ids, .size = ES_VOCAB_SIZE, .key = key};
    for (int i = 0; i < ES_VOCAB_SIZE; i++) ids[i] = i;
    for (int i = ES_VOCAB_SIZE / 2 - 1; i >= 0; i--) sift_down(ids, i, ES_VOCAB_SIZE, key);
}

/* Pops the best-ranked id; it is stored at the end of the array, so the popped ids read
 * backwards from the end in rank order. */
static int rank_heap_pop(rank_heap *h)
{
    int top = h->heap[0];
    h->size--;
    h->heap[0] = h->heap[h->size];
    h->heap[h->size] = top;
    sift_down(h->heap, 0, h->size, h->key);
    return top;
}

int es_emsync_sample(const float *logits, double temperature, double top_p, int *rep, double u,
                     es_sample_buf *buf, int *kept)
{
    double *lp = buf->logp, sum = token_weights(logits, temperature, *rep, lp);
    rank_heap h;
    rank_heap_init(&h, buf->order, lp);
    int n, pick = -1;
    if (top_p >= 1) {
        /* no truncation: every sampleable token is kept, walk until the draw is passed */
        n = ES_VOCAB_SIZE - 4;
        double target = u * sum, acc = 0;
        while (h.size > 0) {
            int id = rank_heap_pop(&h);
            if (!(lp[id] > 0)) break; /* only weightless tokens are left */
            acc += lp[id];
            pick = id;
            if (target < acc) break;
        }
    } else {
        /* the nucleus as the sorted walk: the token that crosses top_p is dropped, the top
         * one always kept */
        int first = rank_heap_pop(&h);
        double cum = lp[first] / sum, mass = lp[first];
        n = 1;
        while (h.size > 0) {
            int id = h.heap[0];
            double p = lp[id] / sum;
            if (cum + p > top_p) break;
            rank_heap_pop(&h);
            cum += p;
            mass += lp[id];
            n++;
        }
        const int *ranked = buf->order + ES_VOCAB_SIZE - 1; /* ranked[-i]: the i-th best */
        double target = u * mass, acc = 0;
        pick = ranked[-(n - 1)];
        for (int i = 0; i < n; i++) {
            acc += lp[ranked[-i]];
            if (target < acc) { pick = ranked[-i]; break; }
        }
    }
    *rep = n <= 2 ? *rep + 1 : *rep / 2;
    if (kept) *kept = n;
    return pick;
}

/* The reference's order of work, sorting the whole vocabulary; kept to test the above. */
int es_emsync_sample_sorted(const float *logits, double temperature, double top_p, int *rep, double u,
                            es_sample_buf *buf, int *kept)
{
    double *lp = buf->logp, sum = token_weights(logits, temperature, *rep, lp);
    for (int i = 0; i < ES_VOCAB_SIZE; i++) buf->order[i] = i;
    sort_by_rank(buf->order, ES_VOCAB_SIZE, lp);
    /* keep the tokens whose cumulative probability (their own included) stays <= top_p; the
     * token that crosses it is dropped, the top token is always kept */
    int n = 1;
    double cum = lp[buf->order[0]] / sum, mass = lp[buf->order[0]];
    while (n < ES_VOCAB_SIZE) {
        double p = lp[buf->order[n]] / sum;
        if (cum + p > top_p) break;
        cum += p;
        mass += lp[buf->order[n]];
        n++;
    }
    double target = u * mass, acc = 0;
    int pick = buf->order[n - 1];
    for (int i = 0; i < n; i++) {
        acc += lp[buf->order[i]];
        if (target < acc) { pick = buf->order[i]; break; }
    }
    *rep = n <= 2 ? *rep + 1 : *rep / 2;
    if (kept) *kept = n;
    return pick;
}

/* ---------- clock ---------- */

int es_emsync_clock_init(es_emsync_clock *c, const double *b, size_t n, int land)
{
    *c = (es_emsync_clock){.b = b, .n = n, .land = land, .chord_tick = -1};
    if (n && !(c->hit = es_calloc(n, 1))) return -1;
    return 0;
}

void es_emsync_clock_free(es_emsync_clock *c)
{
    free(c->hit);
    c->hit = NULL;
}

double es_emsync_clock_time(const es_emsync_clock *c) { return c->ticks * 0.008; }

float es_emsync_clock_delta(const es_emsync_clock *c)
{
    double tau = es_emsync_clock_time(c), best = INFINITY;
    for (size_t i = 0; i < c->n; i++)
        if (!c->hit[i] && c->b[i] - tau >= 0 && c->b[i] - tau < best) best = c->b[i] - tau;
    return (float)(best > 8 ? 8 : best < 0 ? 0 : best);
}

/* The unhit boundary nearest ahead of (or at) the cursor, in ticks; -1 when none. */
static long next_boundary_tick(const es_emsync_clock *c)
{
    long best = -1;
    for (size_t i = 0; i < c->n; i++) {
        long bt = lround(c->b[i] / 0.008);
        if (!c->hit[i] && bt >= c->ticks && (best < 0 || bt < best)) best = bt;
    }
    return best;
}

int es_emsync_clock_steer(const es_emsync_clock *c, int token)
{
    if (!c->land) return token;
    long b = next_boundary_tick(c);
    if (b < 0) return token;
    if (b == c->ticks) return ES_TOK_CHORD; /* on the boundary: its chord comes first */
    if (token >= ES_TOK_TIMESHIFT && token < ES_TOK_NOTES && c->ticks + (token - ES_TOK_TIMESHIFT + 1) > b)
        return es_token_timeshift((int)(b - c->ticks)); /* stop the cursor on the boundary */
    return token;
}

void es_emsync_clock_mask(const es_emsync_clock *c, float *logits)
{
    if (!c->land || c->chord_tick != c->ticks || c->chord_notes >= ES_EMSYNC_CHORD_NOTES) return;
    for (int t = ES_TOK_TIMESHIFT; t < ES_TOK_NOTES; t++) logits[t] = -INFINITY;
}

float es_emsync_clock_advance(es_emsync_clock *c, int token)
{
    if (token == ES_TOK_CHORD) {
        /* the reference counts a chord within 1 s as a hit; landing counts only the boundary's own tick */
        double tau = es_emsync_clock_time(c), window = c->land ? 0.006 : 1.0;
        for (size_t i = 0; i < c->n; i++)
            if (!c->hit[i] && fabs(tau - c->b[i]) < window) {
                c->hit[i] = 1;
                c->hits++;
                c->chord_tick = c->ticks;
                c->chord_notes = 0;
            }
    }
    es_event ev;
    if (!es_token_event(token, &ev) && ev.kind == ES_EV_ON && ev.instrument != ES_DRUMS && c->ticks == c->chord_tick)
        c->chord_notes++;
    if (token >= ES_TOK_TIMESHIFT && token < ES_TOK_NOTES) c->ticks += token - ES_TOK_TIMESHIFT + 1;
    return es_emsync_clock_delta(c);
}

/* ---------- generation ---------- */

typedef struct {
    int *tok;
    float *del;
    size_t n, anchor;         /* tokens; first token in the window */
    long on_tick[ES_INSTRUMENT_COUNT][88]; /* when each sounding note began, -1 when silent */
    es_emsync_clock clock;
    es_rng rng;
    int rep, active;
    int waiting;              /* reached the next mood segment; held for the scene's choice */
    double v, a;              /* mood the cache was computed with */
} candidate;

static int same_mood(double x, double y) { return (isnan(x) && isnan(y)) || x == y; }

/* Appends a token to candidate c and follows which notes sound. */
static void append_token(candidate *c, int token, float delta)
{
    es_event ev;
    if (!es_token_event(token, &ev) && (ev.kind == ES_EV_ON || ev.kind == ES_EV_OFF))
        c->on_tick[ev.instrument][ev.value - 21] = ev.kind == ES_EV_ON ? c->clock.ticks : -1;
    c->tok[c->n] = token;
    c->del[c->n] = delta;
    c->n++;
}

/* Ends (appends OFF tokens for) notes that have sounded for max_ticks or more. Returns how many. */
static int end_held_notes(candidate *c, long max_ticks, size_t cap)
{
    int added = 0;
    for (int i = 0; i < ES_INSTRUMENT_COUNT; i++)
        for (int p = 0; p < 88; p++)
            if (c->on_tick[i][p] >= 0 && c->clock.ticks - c->on_tick[i][p] >= max_ticks && c->n <= cap) {
                append_token(c, es_token_off((es_instrument)i, 21 + p), es_emsync_clock_delta(&c->clock));
                added++;
            }
    return added;
}

void es_emsync_voicing_mask(const es_emsync_clock *c, const long on_tick[ES_INSTRUMENT_COUNT][88], float *logits)
{
    if (!c->land || c->chord_tick != c->ticks) return;
    for (int i = 0; i < ES_INSTRUMENT_COUNT; i++) {
        if (i == ES_DRUMS) continue;
        for (int p = 0; p < 88; p++) {
            if (on_tick[i][p] == c->ticks) logits[es_token_off((es_instrument)i, 21 + p)] = -INFINITY;
            if (on_tick[i][p] >= 0 && c->chord_notes < ES_EMSYNC_CHORD_NOTES)
                logits[es_token_on((es_instrument)i, 21 + p)] = -INFINITY;
        }
    }
}

/* Rebuilds sequence seq's cache from candidate c's window [anchor, n) under mood (v, a) and
 * leaves the last row's logits. */
static int prefill_seq(es_nn_state *st, int seq, const candidate *c, double v, double a, float *logits)
{
    int more = ES_TOK_MORE_INSTRUMENTS;
    float d0 = c->del[c->anchor];
    if (es_nn_begin(st, seq, v, a, d0, NULL) || es_nn_feed(st, seq, &more, &d0, 1, NULL, NULL)) return -1;
    return es_nn_feed(st, seq, c->tok + c->anchor, c->del + c->anchor, (int)(c->n - c->anchor), logits, NULL);
}

void es_emsync_guide(float *cond, const float *uncond, int n, double w)
{
    for (int i = 0; i < n; i++)
        if (isfinite(cond[i]) && isfinite(uncond[i])) cond[i] = (float)(uncond[i] + w * ((double)cond[i] - uncond[i]));
}

/* Generation state shared by the loop's helpers. With guidance, sequence K + k is candidate k's
 * twin: the same tokens under a null valence, whose logits go to ulogits. */
typedef struct {
    es_nn_state *st;
    int K, guided;
    double w;
    float *logits, *ulogits;
} gen_ctx;

/* Rebuilds candidate k (and its twin) from its window; leaves guided logits in g->logits. */
static int prefill(gen_ctx *g, int k, candidate *c)
{
    float *lg = g->logits + (size_t)k * ES_VOCAB_SIZE;
    if (prefill_seq(g->st, k, c, c->v, c->a, lg)) return -1;
    if (!g->guided) return 0;
    float *ul = g->ulogits + (size_t)k * ES_VOCAB_SIZE;
    if (prefill_seq(g->st, g->K + k, c, NAN, c->a, ul)) return -1;
    if (!isnan(c->v)) es_emsync_guide(lg, ul, ES_VOCAB_SIZE, g->w);
    return 0;
}

/* Feeds candidate k's tokens [first, n) to its cache (and its twin's); guided logits result. */
static int feed(gen_ctx *g, int k, candidate *c, size_t first)
{
    float *lg = g->logits + (size_t)k * ES_VOCAB_SIZE;
    if (es_nn_feed(g->st, k, c->tok + first, c->del + first, (int)(c->n - first), lg, NULL)) return -1;
    if (!g->guided) return 0;
    float *ul = g->ulogits + (size_t)k * ES_VOCAB_SIZE;
    if (es_nn_feed(g->st, g->K + k, c->tok + first, c->del + first, (int)(c->n - first), ul, NULL)) return -1;
    if (!isnan(c->v)) es_emsync_guide(lg, ul, ES_VOCAB_SIZE, g->w);
    return 0;
}

/* At a mood change the fast mode keeps the last `keep` tokens of the window, as it does when
 * the window fills: the new scene still hears half a window of what came before (8 s at the
 * bundled model's pace), and the change rebuilds at most that many rows instead of up to a
 * whole window, which halves the prefill work of a piece whose mood changes every few seconds.
 * The music follows the scenes' moods no worse (bench/scene-eval.py, 1,360 six-second scenes
 * of random moods: Spearman of valence with major-ness 0.38 before, 0.45 after; of arousal
 * with note density 0.21 and 0.22; every cut landed). The exact mode slides as the reference
 * does. *longest is the most window tokens rebuilt at a change so far. */
static void reanchor_for_mood(candidate *c, int keep, int exact, size_t *longest)
{
    if (!exact && c->n - c->anchor > (size_t)keep) c->anchor = c->n - (size_t)keep;
    if (c->n - c->anchor > *longest) *longest = c->n - c->anchor;
}

/* The next token of every running candidate, drawn in parallel: each candidate has its own
 * logits, clock, notes and random stream, so the draws are those of one thread. */
typedef struct {
    candidate *cand;
    int K;
    float *logits;
    double temperature, top_p;
    es_sample_buf *bufs;        /* one per part */
    int *picks;                 /* K: the token drawn, for the candidates that drew */
} draw_job;

static void draw_part(void *arg, int part, int parts)
{
    draw_job *d = arg;
    for (int k = part; k < d->K; k += parts) {
        candidate *c = &d->cand[k];
        if (!c->active || c->waiting) continue;
        float *lg = d->logits + (size_t)k * ES_VOCAB_SIZE;
        es_emsync_clock_mask(&c->clock, lg);
        es_emsync_voicing_mask(&c->clock, (const long(*)[88])c->on_tick, lg);
        d->picks[k] = es_emsync_sample(lg, d->temperature, d->top_p, &c->rep, es_rng_uniform(&c->rng), &d->bufs[part], NULL);
    }
}

/* The requested mood, averaged over the piece by duration. */
static void mean_mood(const es_compose_request *req, double *valence, double *arousal)
{
    double v = 0, a = 0;
    for (size_t i = 0; i < req->n_moods; i++) {
        double end = i + 1 < req->n_moods ? req->moods[i + 1].start : req->duration;
        double w = fmax(0, fmin(end, req->duration) - req->moods[i].start) / req->duration;
        v += w * (isnan(req->moods[i].valence) ? 0 : req->moods[i].valence);
        a += w * (isnan(req->moods[i].arousal) ? 0 : req->moods[i].arousal);
    }
    *valence = v;
    *arousal = a;
}

/* Among the candidates that hit the most boundaries, the one whose major-ness (Krumhansl-
 * Kessler, the usual reading of valence from notes) ranks closest to the requested valence,
 * ranks spread over [-1, 1] so no calibration is needed. Valence alone: the model follows
 * arousal by itself (note density), and ranking density too picked the densest candidate for
 * high arousal, out of the corpus's range (bench/model-eval.py, docs/model-card.md). */
int es_emsync_pick(const int *const *tokens, const size_t *n_tokens, const size_t *hits, int K,
                   const es_compose_request *req)
{
    size_t most = 0;
    for (int k = 0; k < K; k++)
        if (hits[k] > most) most = hits[k];
    int tied[ES_EMSYNC_MAX_CANDIDATES] = {0}, n_tied = 0;
    for (int k = 0; k < K && n_tied < ES_EMSYNC_MAX_CANDIDATES; k++)
        if (hits[k] == most) tied[n_tied++] = k;
    if (n_tied == 1) return tied[0];

    double majorness[ES_EMSYNC_MAX_CANDIDATES];
    for (int i = 0; i < n_tied; i++) {
        es_score sc = {0};
        es_metrics m;
        if (es_tokens_to_score(tokens[tied[i]], n_tokens[tied[i]], &sc)) return -1;
        sc.duration = req->duration;
        int r = es_metrics_compute(&sc, NULL, 0, &m);
        es_score_free(&sc);
        majorness[i] = r == 0 && isfinite(m.majorness) ? m.majorness : 0;
    }
    double want_v, want_a;
    mean_mood(req, &want_v, &want_a);
    int best = tied[0];
    double best_dist = INFINITY;
    for (int i = 0; i < n_tied; i++) {
        int below = 0, equal = 0; /* rank among the tied, ties sharing their mean rank */
        for (int j = 0; j < n_tied; j++) {
            below += majorness[j] < majorness[i];
            equal += j != i && majorness[j] == majorness[i];
        }
        double v = 2 * (below + 0.5 * equal) / (n_tied - 1) - 1;
        double dist = fabs(v - want_v);
        if (dist < best_dist) {
            best_dist = dist;
            best = tied[i];
        }
    }
    return best;
}

/* Index of the candidate among those listed whose tokens from seg_start on suit req's mood
 * best, by es_emsync_pick's rule; -1 on failure. */
static int pick_from(const candidate *cand, const int *which, int n, size_t seg_start, const es_compose_request *req)
{
    const int *toks[ES_EMSYNC_MAX_CANDIDATES];
    size_t lens[ES_EMSYNC_MAX_CANDIDATES], hits[ES_EMSYNC_MAX_CANDIDATES];
    for (int i = 0; i < n; i++) {
        const candidate *c = &cand[which[i]];
        toks[i] = c->tok + seg_start;
        lens[i] = c->n - seg_start;
        hits[i] = c->clock.hits;
    }
    int best = es_emsync_pick(toks, lens, hits, n, req);
    return best < 0 ? -1 : which[best];
}

/* pick_from on the scene just played (from seg_start, `seconds` long) under its own mood. */
static int pick_scene(const candidate *cand, const int *which, int n, size_t seg_start, double seconds)
{
    es_mood_segment mood = {0, cand[which[0]].v, cand[which[0]].a};
    es_compose_request scene = {.duration = seconds > 0 ? seconds : 1, .moods = &mood, .n_moods = 1};
    return pick_from(cand, which, n, seg_start, &scene);
}

/* Makes candidate `to` a copy of `from` but for its random stream, so the two part again. */
static void copy_candidate(candidate *to, const candidate *from)
{
    memcpy(to->tok, from->tok, from->n * sizeof *to->tok);
    memcpy(to->del, from->del, from->n * sizeof *to->del);
    to->n = from->n;
    to->anchor = from->anchor;
    memcpy(to->on_tick, from->on_tick, sizeof to->on_tick);
    unsigned char *hit = to->clock.hit;
    to->clock = from->clock;
    to->clock.hit = hit;
    if (from->clock.n) memcpy(hit, from->clock.hit, from->clock.n);
    to->rep = from->rep;
    to->active = from->active;
    to->waiting = from->waiting;
    to->v = from->v;
    to->a = from->a;
}

int es_compose_emsync(const es_compose_request *req, const es_emsync_options *opt, es_score *out,
                      es_emsync_report *report)
{
    int rc = -1, K = opt->candidates;
    candidate *cand = NULL;
    es_nn_state *st = NULL;
    float *logits = NULL, *ulogits = NULL, *step_logits = NULL;
    int *seqs = NULL, *stoks = NULL;
    float *sdels = NULL;
    es_sample_buf *sb = NULL;
    memset(out, 0, sizeof *out);
    if (report) memset(report, 0, sizeof *report);
    if (!opt->model) return es_fail("emsync composer: no model");
    if (K == 0) K = es_emsync_default_candidates(es_nn_model_hparams(opt->model));
    if (K < 1 || K > ES_EMSYNC_MAX_CANDIDATES)
        return es_fail("emsync composer: candidates must be 1..%d, not %d", ES_EMSYNC_MAX_CANDIDATES, K);
    if (!(req->duration > 0) || req->duration > 24 * 3600) return es_fail("emsync composer: bad duration %g s", req->duration);
    if (!req->moods || req->n_moods < 1) return es_fail("emsync composer: no mood given");
    if (req->n_boundaries && !req->boundaries) return es_fail("emsync composer: boundaries missing");
    for (size_t i = 0; i < req->n_moods; i++) /* NaN is "unknown"; an infinity would poison the logits */
        if (isinf(req->moods[i].valence) || isinf(req->moods[i].arousal))
            return es_fail("emsync composer: mood %zu is infinite", i);
    if (!(opt->temperature >= 0) || !(opt->top_p >= 0) || opt->top_p > 1)
        return es_fail("emsync composer: temperature must be > 0 and top-p in (0, 1]");
    if (!(opt->guidance >= 0 && opt->guidance <= 10)) return es_fail("emsync composer: guidance must be in [1, 10]");
    const es_nn_hparams *hp = es_nn_model_hparams(opt->model);
    double temperature, top_p;
    es_emsync_default_sampling(hp, &temperature, &top_p);
    if (opt->temperature > 0) temperature = opt->temperature;
    if (opt->top_p > 0) top_p = opt->top_p;
    double guidance = opt->guidance > 1 ? opt->guidance : 1.0;
    int guided = guidance != 1.0;
    if (hp->vocab != ES_VOCAB_SIZE) return es_fail("emsync composer: model vocabulary is %d, not %d", hp->vocab, ES_VOCAB_SIZE);
    int window = hp->context - 3; /* generated tokens that fit beside the 2 conditions and the instrument token */
    if (window < 2) return es_fail("emsync composer: the model's context of %d is too small", hp->context);
    int keep = opt->keep_tokens > 0 && opt->keep_tokens < window ? opt->keep_tokens : window / 2;
    if (keep < 1) keep = 1;
    size_t cap = opt->max_tokens ? opt->max_tokens : (size_t)(req->duration * 400) + 1000;
    double t0 = es_now();

    cand = es_calloc((size_t)K, sizeof *cand);
    int nseq = guided ? 2 * K : K;
    logits = es_malloc((size_t)K * ES_VOCAB_SIZE * sizeof *logits);
    ulogits = es_malloc((size_t)K * ES_VOCAB_SIZE * sizeof *ulogits);
    step_logits = es_malloc((size_t)nseq * ES_VOCAB_SIZE * sizeof *step_logits);
    seqs = es_malloc((size_t)nseq * sizeof *seqs);
    stoks = es_malloc((size_t)nseq * sizeof *stoks);
    sdels = es_malloc((size_t)nseq * sizeof *sdels);
    sb = es_malloc((size_t)es_nn_model_parts(opt->model) * sizeof *sb);
    st = es_nn_state_new(opt->model, nseq);
    if (!cand || !logits || !ulogits || !step_logits || !seqs || !stoks || !sdels || !sb || !st) goto end;
    gen_ctx g = {.st = st, .K = K, .guided = guided, .w = guidance, .logits = logits, .ulogits = ulogits};
    for (int k = 0; k < K; k++) {
        candidate *c = &cand[k];
        c->tok = es_malloc((cap + 1 + 2 * 88 * ES_INSTRUMENT_COUNT) * sizeof *c->tok); /* room for forced OFFs */
        c->del = es_malloc((cap + 1 + 2 * 88 * ES_INSTRUMENT_COUNT) * sizeof *c->del);
        if (!c->tok || !c->del || es_emsync_clock_init(&c->clock, req->boundaries, req->n_boundaries, !opt->reference_boundaries))
            goto end;
        es_rng_seed(&c->rng, req->seed + 0x9E3779B97F4A7C15ull * (uint64_t)k);
        const es_mood_segment *m = es_mood_at(req, 0);
        c->v = m->valence;
        c->a = m->arousal;
        memset(c->on_tick, 0xFF, sizeof c->on_tick);
        append_token(c, ES_TOK_BAR, es_emsync_clock_delta(&c->clock));
        c->active = 1;
        if (prefill(&g, k, c)) goto end;
    }
    int refills = 0, capped = 0, mood_changes = 0, scenes_chosen = 0;
    size_t mood_window = 0;
    size_t generated = 0, seg_start = 0;
    double seg_time = 0;
    /* With several candidates and moods, the choice is made scene by scene: each candidate
     * plays up to the next mood segment and waits; the one that suits the scene best is kept,
     * and all candidates go on from it under the new mood (one prefill, copied). */
    int per_scene = K > 1 && !guided && req->n_moods > 1;
    es_progress_stage("compose");
    int picks[ES_EMSYNC_MAX_CANDIDATES];
    draw_job draw = {cand, K, logits, temperature, top_p, sb, picks};
    for (;;) {
        int count = 0;
        es_nn_model_run(opt->model, draw_part, &draw);
        for (int k = 0; k < K; k++) {
            candidate *c = &cand[k];
            if (!c->active || c->waiting) continue;
            int s = es_emsync_clock_steer(&c->clock, picks[k]);
            float d = es_emsync_clock_advance(&c->clock, s);
            size_t first_new = c->n;
            append_token(c, s, d);
            generated++;
            /* the network cannot end a note whose start has left its window; the fast mode
             * ends notes held for ES_EMSYNC_MAX_NOTE_SECONDS (longer than 99.9% of POP909's) */
            int forced = !opt->exact && s >= ES_TOK_TIMESHIFT && s < ES_TOK_NOTES
                             ? end_held_notes(c, lround(ES_EMSYNC_MAX_NOTE_SECONDS / 0.008), cap)
                             : 0;
            double tau = es_emsync_clock_time(&c->clock);
            if (tau >= req->duration || c->n > cap) {
                c->active = 0;
                if (c->n > cap) capped = 1;
                continue;
            }
            const es_mood_segment *m = es_mood_at(req, tau);
            int mood_changed = !same_mood(m->valence, c->v) || !same_mood(m->arousal, c->a);
            int full = c->n - c->anchor > (size_t)window;
            if (full) c->anchor = opt->exact ? c->n - (size_t)window : c->n - (size_t)keep;
            if (mood_changed && per_scene) { /* the cache is rebuilt once, at the scene's choice */
                c->waiting = 1;
                continue;
            }
            mood_changes += mood_changed;
            if (mood_changed || full) {
                c->v = m->valence;
                c->a = m->arousal;
                refills++;
                if (mood_changed) reanchor_for_mood(c, keep, opt->exact, &mood_window);
                if (prefill(&g, k, c)) goto end;
            } else if (forced) {
                if (feed(&g, k, c, first_new)) goto end;
            } else {
                for (int twin = 0; twin <= guided; twin++) {
                    seqs[count] = twin ? K + k : k;
                    stoks[count] = s;
                    sdels[count] = d;
                    count++;
                }
            }
        }
        if (count) {
            if (es_nn_step(st, seqs, stoks, sdels, count, step_logits)) goto end;
            for (int i = 0; i < count; i++) {
                int seq = seqs[i];
                float *dst = seq < K ? logits + (size_t)seq * ES_VOCAB_SIZE : ulogits + (size_t)(seq - K) * ES_VOCAB_SIZE;
                memcpy(dst, step_logits + (size_t)i * ES_VOCAB_SIZE, ES_VOCAB_SIZE * sizeof(float));
            }
            for (int i = 0; guided && i < count; i++)
                if (seqs[i] < K && !isnan(cand[seqs[i]].v))
                    es_emsync_guide(logits + (size_t)seqs[i] * ES_VOCAB_SIZE, ulogits + (size_t)seqs[i] * ES_VOCAB_SIZE,
                                    ES_VOCAB_SIZE, guidance);
        }
        if (per_scene) {
            int which[ES_EMSYNC_MAX_CANDIDATES], n_wait = 0, running = 0;
            for (int k = 0; k < K; k++) {
                if (cand[k].active && cand[k].waiting) which[n_wait++] = k;
                running += cand[k].active && !cand[k].waiting;
            }
            if (!running && n_wait) {
                double now = es_emsync_clock_time(&cand[which[0]].clock);
                int w = pick_scene(cand, which, n_wait, seg_start, now - seg_time);
                if (w < 0) goto end;
                candidate *cw = &cand[w];
                const es_mood_segment *m = es_mood_at(req, es_emsync_clock_time(&cw->clock));
                cw->v = m->valence;
                cw->a = m->arousal;
                cw->waiting = 0;
                reanchor_for_mood(cw, keep, opt->exact, &mood_window);
                refills++;
                mood_changes++;
                scenes_chosen++;
                if (prefill(&g, w, cw)) goto end;
                for (int k = 0; k < K; k++) {
                    if (k == w) continue;
                    copy_candidate(&cand[k], cw);
                    if (es_nn_copy(st, w, k)) goto end;
                    memcpy(logits + (size_t)k * ES_VOCAB_SIZE, logits + (size_t)w * ES_VOCAB_SIZE, ES_VOCAB_SIZE * sizeof *logits);
                }
                seg_start = cw->n;
                seg_time = es_emsync_clock_time(&cw->clock);
            }
        }
        int any = 0;
        double progress = 1;
        for (int k = 0; k < K; k++)
            if (cand[k].active) {
                any = 1;
                progress = fmin(progress, es_emsync_clock_time(&cand[k].clock) / req->duration);
            }
        if (!any) break;
        es_progress_update(progress);
    }
    es_progress_done();

    int all[ES_EMSYNC_MAX_CANDIDATES];
    for (int k = 0; k < K; k++) all[k] = k;
    /* after a choice by scene the candidates share all but the last scene: choose on it */
    int best = scenes_chosen ? pick_scene(cand, all, K, seg_start, req->duration - seg_time)
                             : pick_from(cand, all, K, 0, req);
    if (best < 0) goto end;
    candidate *c = &cand[best];
    if (es_tokens_to_score(c->tok, c->n, out) || es_score_add_tempo(out, 0, 240)) goto end;
    /* clip to the duration: the last token may step past it */
    size_t w = 0;
    for (size_t i = 0; i < out->n_notes; i++) {
        es_note nt = out->notes[i];
        if (nt.start >= req->duration) continue;
        if (nt.end > req->duration) nt.end = req->duration;
        out->notes[w++] = nt;
    }
    out->n_notes = w;
    while (out->n_chords && out->chords[out->n_chords - 1].time >= req->duration) out->n_chords--;
    out->duration = req->duration;
    es_score_sort(out);
    if (report) {
        double dt = es_now() - t0;
        report->tokens = es_malloc(c->n * sizeof *report->tokens);
        if (!report->tokens) goto end;
        memcpy(report->tokens, c->tok, c->n * sizeof *report->tokens);
        report->n_tokens = c->n;
        report->chosen = best;
        report->candidates = K;
        report->scenes_chosen = scenes_chosen;
        report->boundaries_hit = c->clock.hits;
        report->refills = refills;
        report->mood_window = mood_window;
        report->capped = capped;
        report->mood_changes = mood_changes;
        report->seconds = dt;
        report->tokens_per_second = dt > 0 ? generated / dt : 0;
        report->temperature = temperature;
        report->top_p = top_p;
        report->guidance = guidance;
    }
    rc = 0;
end:
    if (rc) {
        es_score_free(out);
        if (report) es_emsync_report_free(report);
    }
    for (int k = 0; cand && k < K; k++) {
        es_emsync_clock_free(&cand[k].clock);
        free(cand[k].del);
        free(cand[k].tok);
    }
    es_nn_state_free(st);
    free(sb);
    free(sdels);
    free(stoks);
    free(seqs);
    free(step_logits);
    free(ulogits);
    free(logits);
    free(cand);
    return rc;
}

/* ---------- model lookup ---------- */

/* path into buf when it names a readable file. */
static const char *readable(char *buf, size_t size, const char *path)
{
    int n = snprintf(buf, size, "%s", path);
    return n >= 0 && (size_t)n < size && access(buf, R_OK) == 0 ? buf : NULL;
}

const char *es_find_model_from(const char *explicit_path, const char **source)
{
    static char buf[4096];
    const char *src = "none", *found = NULL;
    const char *env = getenv("EMSYNC_MODEL");
    char *dir = NULL;
    if (explicit_path && *explicit_path) { src = "option"; found = explicit_path; }
    else if (env && *env) { src = "EMSYNC_MODEL"; found = env; }
    else if ((dir = es_datadir_find(".", ES_AUTHORS_MODEL))) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, ES_AUTHORS_MODEL);
        if ((found = readable(buf, sizeof buf, path))) src = "data dir";
    }
    free(dir);
    dir = NULL;
    if (!found && (dir = es_datadir_find("models", ES_BUNDLED_MODEL))) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, ES_BUNDLED_MODEL);
        if ((found = readable(buf, sizeof buf, path))) src = "bundled";
    }
    free(dir);
    if (!found) { /* beside the executable, for a build that is not installed */
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = 0;
            char *slash = strrchr(exe, '/');
            if (slash) *slash = 0;
            static const char *const rel[] = {"models", "../models"};
            for (int i = 0; i < 2 && !found; i++) {
                char path[8300];
                snprintf(path, sizeof path, "%s/%s/%s", exe, rel[i], ES_BUNDLED_MODEL);
                if ((found = readable(buf, sizeof buf, path))) src = "bundled";
            }
        }
    }
    if (!found) es_error_clear();
    if (source) *source = src;
    return found;
}

const char *es_find_model(const char *explicit_path) { return es_find_model_from(explicit_path, NULL); }
