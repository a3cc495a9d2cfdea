/*
 * A stand-in for libjack.so.0 that runs one process callback in a loop:
 * jack_activate calls the registered callback ROUNDS times, one call per
 * PERIOD_US microseconds (an absolute-deadline sleep between calls, as a
 * JACK cycle would wake it), times each call with CLOCK_MONOTONIC around
 * the call alone, and prints the median, 99th percentile and mean in
 * nanoseconds. Whatever a preloaded library does between the loop and
 * the program's function is inside the timing; nothing else differs.
 *
 * Environment: FAKEJACK_CALLS (default 20000), FAKEJACK_WARMUP (default
 * 1000, not timed), FAKEJACK_PERIOD_US (default 500), FAKEJACK_FRAMES
 * (default 512).
 */
#define _GNU_SOURCE
#include <jack/jack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct _jack_client {
    JackProcessCallback process;
    void *arg;
};

static struct _jack_client the_client;

static unsigned long env(const char *name, unsigned long fallback) {
    const char *v = getenv(name);
    return v && *v ? strtoul(v, NULL, 10) : fallback;
}

jack_client_t *jack_client_open(const char *name, jack_options_t options, jack_status_t *status, ...) {
    (void)name;
    (void)options;
    if (status)
        *status = 0;
    return &the_client;
}

int jack_client_close(jack_client_t *client) {
    (void)client;
    return 0;
}

char *jack_get_client_name(jack_client_t *client) {
    (void)client;
    return "fakejack";
}

jack_nframes_t jack_get_sample_rate(jack_client_t *client) {
    (void)client;
    return 48000;
}

jack_nframes_t jack_get_buffer_size(jack_client_t *client) {
    (void)client;
    return (jack_nframes_t)env("FAKEJACK_FRAMES", 512);
}

int jack_set_process_callback(jack_client_t *client, JackProcessCallback process, void *arg) {
    client->process = process;
    client->arg = arg;
    return 0;
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int jack_activate(jack_client_t *client) {
    unsigned long calls = env("FAKEJACK_CALLS", 20000);
    unsigned long warm_up = env("FAKEJACK_WARMUP", 1000);
    long period = (long)env("FAKEJACK_PERIOD_US", 500) * 1000;
    jack_nframes_t frames = jack_get_buffer_size(client);
    uint64_t *took = malloc(calls * sizeof *took);
    if (!took || !client->process)
        return 1;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (unsigned long i = 0; i < warm_up + calls; i++) {
        next.tv_nsec += period;
        while (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        uint64_t start = now_ns();
        client->process(frames, client->arg);
        uint64_t end = now_ns();
        if (i >= warm_up)
            took[i - warm_up] = end - start;
    }
    double sum = 0;
    for (unsigned long i = 0; i < calls; i++)
        sum += (double)took[i];
    qsort(took, calls, sizeof *took, by_value);
    printf("median_ns %llu p99_ns %llu mean_ns %.1f calls %lu\n",
           (unsigned long long)took[calls / 2], (unsigned long long)took[calls * 99 / 100],
           sum / (double)calls, calls);
    free(took);
    return 0;
}
