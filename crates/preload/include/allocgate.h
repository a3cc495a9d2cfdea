/*
 * allocgate.h: mark an audio callback by hand for `allocgate attach`.
 *
 * For programs whose audio API allocgate does not wrap (JACK process
 * callbacks and process threads are measured without this header). Put
 * the two macros around the body of your callback:
 *
 *     #include "allocgate.h"
 *
 *     static void render(float *out, int frames) {
 *         ALLOCGATE_CALLBACK_BEGIN();
 *         ...                         // measured: allocations, locks,
 *         ALLOCGATE_CALLBACK_END();   // sleeps, I/O, duration
 *     }
 *
 * Between the two calls, everything the calling thread asks of the
 * allocator and every blocking call it makes is counted, and the time
 * taken, as one invocation of a "marked callback"; each thread marking
 * callbacks is reported on its own. A BEGIN while one is open on the
 * same thread is ignored (no nesting); an END with none open does
 * nothing. The thread's first BEGIN sets up its record queue (it
 * allocates once, before the invocation it opens, so nothing of it is
 * counted in the invocation).
 *
 * The functions are declared weak: without `liballocgate_preload.so`
 * loaded (a normal run), their addresses are null and the macros do
 * nothing beyond one comparison each. Under `allocgate attach` the
 * library provides them. Nothing to link: no library is needed to build.
 *
 * Linux with glibc; position-independent executables (the default of
 * current GCC and Clang) or shared libraries, so the dynamic loader can
 * bind the weak references at load time.
 */
#ifndef ALLOCGATE_H
#define ALLOCGATE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Starts a measured invocation on the calling thread. */
void allocgate_callback_begin(void) __attribute__((weak));

/* Ends the calling thread's measured invocation and queues its record. */
void allocgate_callback_end(void) __attribute__((weak));

#ifdef __cplusplus
}
#endif

#define ALLOCGATE_CALLBACK_BEGIN()                                             \
    do {                                                                       \
        if (allocgate_callback_begin)                                          \
            allocgate_callback_begin();                                        \
    } while (0)

#define ALLOCGATE_CALLBACK_END()                                               \
    do {                                                                       \
        if (allocgate_callback_end)                                            \
            allocgate_callback_end();                                          \
    } while (0)

#endif /* ALLOCGATE_H */
