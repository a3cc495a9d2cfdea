/*
 * A JACK client with one process callback, as an unmodified program
 * would register it: `client empty` returns at once; `client mix` mixes
 * two inputs with gains into the output (512 frames: two multiplies and
 * an add per frame); `client fir` runs a 32-tap FIR over the input.
 */
#include <jack/jack.h>
#include <stdio.h>
#include <string.h>

#define MAX_FRAMES 4096
#define TAPS 32

float in_a[MAX_FRAMES + TAPS], in_b[MAX_FRAMES], out[MAX_FRAMES], taps[TAPS];
float gain_a = 0.7f, gain_b = 0.3f;

static int empty(jack_nframes_t frames, void *arg) {
    (void)frames;
    (void)arg;
    return 0;
}

static int mix(jack_nframes_t frames, void *arg) {
    (void)arg;
    for (jack_nframes_t i = 0; i < frames; i++)
        out[i] = gain_a * in_a[i] + gain_b * in_b[i];
    return 0;
}

static int fir(jack_nframes_t frames, void *arg) {
    (void)arg;
    for (jack_nframes_t i = 0; i < frames; i++) {
        float acc = 0;
        for (int k = 0; k < TAPS; k++)
            acc += taps[k] * in_a[i + k];
        out[i] = acc;
    }
    return 0;
}

int main(int argc, char **argv) {
    JackProcessCallback process = NULL;
    if (argc == 2 && strcmp(argv[1], "empty") == 0)
        process = empty;
    else if (argc == 2 && strcmp(argv[1], "mix") == 0)
        process = mix;
    else if (argc == 2 && strcmp(argv[1], "fir") == 0)
        process = fir;
    else {
        fprintf(stderr, "usage: client empty|mix|fir\n");
        return 2;
    }
    for (int i = 0; i < MAX_FRAMES; i++) {
        in_a[i] = (float)(i % 97) / 97.0f;
        in_b[i] = (float)(i % 89) / 89.0f;
    }
    for (int k = 0; k < TAPS; k++)
        taps[k] = 1.0f / TAPS;
    jack_client_t *client = jack_client_open("bench", JackNoStartServer, NULL);
    if (!client || jack_set_process_callback(client, process, NULL) != 0)
        return 3;
    int rc = jack_activate(client);
    jack_client_close(client);
    return rc;
}
