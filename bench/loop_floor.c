/* The timing floor of this machine for a 2 ms loop, without Python: clock_nanosleep to
 * absolute deadlines on CLOCK_MONOTONIC, optionally under SCHED_FIFO. Compiled and run by
 * bench/bench_loop_timing.py; prints "p50 p99 max" of |interval - 2 ms| in ms.
 *
 *   loop_floor SECONDS FIFO_PRIORITY(0: normal)
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PERIOD_NS 2000000L

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static long ns(const struct timespec *t) { return t->tv_sec * 1000000000L + t->tv_nsec; }

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 10.0;
  int priority = argc > 2 ? atoi(argv[2]) : 0;
  if (priority > 0) {
    struct sched_param param = {.sched_priority = priority};
    if (sched_setscheduler(0, SCHED_FIFO, &param) != 0) {
      printf("refused\n");
      return 0;
    }
  }
  long ticks = (long)(seconds * 1e9 / PERIOD_NS);
  double *error_ms = malloc(sizeof(double) * ticks);
  struct timespec deadline, now;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  long previous = ns(&deadline);
  for (long i = 0; i < ticks; i++) {
    deadline.tv_nsec += PERIOD_NS;
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_nsec -= 1000000000L;
      deadline.tv_sec += 1;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
    clock_gettime(CLOCK_MONOTONIC, &now);
    double interval_ms = (ns(&now) - previous) / 1e6;
    error_ms[i] = interval_ms > 2.0 ? interval_ms - 2.0 : 2.0 - interval_ms;
    previous = ns(&now);
  }
  qsort(error_ms, ticks, sizeof(double), by_value);
  printf("%.3f %.3f %.3f\n", error_ms[ticks / 2], error_ms[(long)(ticks * 0.99)], error_ms[ticks - 1]);
  free(error_ms);
  return 0;
}
