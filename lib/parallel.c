/*
 * parallel.c: see parallel.h.
 */
#include "lib/parallel.h"

#include <pthread.h>
#include <stdbool.h>

void ph_run_pair(void *(*fn)(void *), void *a, void *b)
{
    pthread_t t;
    bool threaded = pthread_create(&t, NULL, fn, a) == 0;
    if (!threaded)
        fn(a);
    fn(b);
    if (threaded)
        pthread_join(t, NULL);
}
