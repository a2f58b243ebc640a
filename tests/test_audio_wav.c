/* The 16-bit WAV writer: header fields byte by byte, samples equal to their quantised values,
 * the file accepted by libavformat (a second reader), the same file written block by block, and
 * no file left when writing fails. */
#include <libavformat/avformat.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/loudness.h"
#include "check.h"
#include "core/error.h"

static uint32_t rd32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static unsigned rd16(const unsigned char *p) { return p[0] | p[1] << 8; }

int main(void)
{
    char dir[] = "/tmp/es-wav-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/out.wav", dir);

    enum { N = 1001 };
    float pcm[2 * N];
    for (int i = 0; i < 2 * N; i++) pcm[i] = (float)sin(i * 0.01) * 0.9f;
    /* edge values: full scale, beyond it, rounding points, NaN */
    const float edge[] = {1.0f, -1.0f, 1.5f, -2.0f, 0.5f / 32767, -0.5f / 32767, 1.5f / 32767, NAN};
    memcpy(pcm, edge, sizeof edge);
    const int16_t edge_want[] = {32767, -32767, 32767, -32767, 0, 0, 2, 0};

    CHECK(es_wav_write(path, pcm, N, 48000) == 0);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    static unsigned char buf[44 + 4 * N + 16];
    size_t got = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    CHECK(got == 44 + 4 * N);
    CHECK(!memcmp(buf, "RIFF", 4) && !memcmp(buf + 8, "WAVE", 4) && !memcmp(buf + 12, "fmt ", 4));
    CHECK(rd32(buf + 4) == 36 + 4 * N);
    CHECK(rd32(buf + 16) == 16);
    CHECK(rd16(buf + 20) == 1);      /* PCM */
    CHECK(rd16(buf + 22) == 2);      /* stereo */
    CHECK(rd32(buf + 24) == 48000);
    CHECK(rd32(buf + 28) == 48000 * 4);
    CHECK(rd16(buf + 32) == 4);
    CHECK(rd16(buf + 34) == 16);
    CHECK(!memcmp(buf + 36, "data", 4) && rd32(buf + 40) == 4 * N);
    int edges_ok = 1, all_ok = 1;
    for (int i = 0; i < 8; i++) edges_ok &= (int16_t)rd16(buf + 44 + 2 * i) == edge_want[i];
    for (int i = 8; i < 2 * N; i++) all_ok &= (int16_t)rd16(buf + 44 + 2 * i) == (int16_t)lrintf(pcm[i] * 32767.0f);
    CHECK(edges_ok);
    CHECK(all_ok);

    /* libavformat reads it as 48 kHz stereo s16 with the right length */
    av_log_set_level(AV_LOG_QUIET);
    AVFormatContext *ic = NULL;
    CHECK(avformat_open_input(&ic, path, NULL, NULL) == 0);
    if (ic) {
        CHECK(avformat_find_stream_info(ic, NULL) >= 0);
        AVCodecParameters *par = ic->streams[0]->codecpar;
        CHECK(par->codec_id == AV_CODEC_ID_PCM_S16LE);
        CHECK(par->sample_rate == 48000 && par->ch_layout.nb_channels == 2);
        CHECK_NEAR(ic->duration / (double)AV_TIME_BASE, N / 48000.0, 1e-3);
        avformat_close_input(&ic);
    }

    /* empty audio still gives a valid header */
    CHECK(es_wav_write(path, pcm, 0, 44100) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 44);
    unlink(path);

    /* a directory that does not exist: an error naming the file, nothing created */
    snprintf(path, sizeof path, "%s/no/such/dir/out.wav", dir);
    CHECK(es_wav_write(path, pcm, N, 48000) == -1);
    CHECK(strstr(es_error(), path) != NULL);
    snprintf(path, sizeof path, "%s/x.wav", dir);
    CHECK(es_wav_write(path, pcm, N, 0) == -1);
    CHECK(stat(path, &st) != 0);
    /* a rate whose byte rate (4 x rate) does not fit the header's 32 bits was written wrapped */
    CHECK(es_wav_write(path, pcm, N, 1 << 30) == -1);
    CHECK(strstr(es_error(), "sample rate") != NULL);
    CHECK(stat(path, &st) != 0);

    /* block by block: the same file as in one go; a count short of or past the one announced in
     * the header is refused, and nothing is left */
    char whole[256];
    snprintf(whole, sizeof whole, "%s/whole.wav", dir);
    CHECK(es_wav_write(whole, pcm, N, 48000) == 0);
    es_wav *w = NULL;
    CHECK(es_wav_open(&w, path, N, 48000) == 0);
    for (int at = 0; w && at < N; at += 300) CHECK(es_wav_put(w, pcm + 2 * at, N - at < 300 ? N - at : 300) == 0);
    CHECK(w && es_wav_commit(&w) == 0 && w == NULL);
    FILE *fa = fopen(whole, "rb"), *fb = fopen(path, "rb");
    static unsigned char ba[4 * N + 64], bb[4 * N + 64];
    size_t na = fa ? fread(ba, 1, sizeof ba, fa) : 0, nb = fb ? fread(bb, 1, sizeof bb, fb) : 1;
    CHECK(na == 44 + 4 * N && na == nb && memcmp(ba, bb, na) == 0);
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    unlink(whole);
    unlink(path);
    CHECK(es_wav_open(&w, path, N, 48000) == 0);
    CHECK(w && es_wav_put(w, pcm, N - 1) == 0);
    CHECK(w && es_wav_put(w, pcm, 2) == -1 && strstr(es_error(), "more frames"));
    CHECK(w && es_wav_commit(&w) == -1 && strstr(es_error(), "1000 of 1001"));
    CHECK(w == NULL && stat(path, &st) != 0);
    CHECK(rmdir(dir) == 0); /* empty: no temp file left behind */
    return check_report("test_audio_wav");
}
