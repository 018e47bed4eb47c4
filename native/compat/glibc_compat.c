/*
 * glibc_compat.c - keep the Linux .node loadable on glibc >= 2.28 when it is
 * built against a newer glibc (Debian 12 has 2.36).
 *
 * The toolchain's glibc decides which symbol versions a binary needs: a call to
 * pthread_create compiled against glibc 2.36 binds to pthread_create@GLIBC_2.34
 * (the pthread functions moved from libpthread into libc in 2.34), and the
 * static libstdc++.a adds references of its own. No compiler flag changes that.
 * This file defines those symbols inside the .node, each forwarding to (or
 * re-implementing) the old version, so every reference, ours and libstdc++'s,
 * resolves here and the loader only ever asks for old versions.
 *
 * Every definition is hidden: it binds references inside this shared object and
 * is never exported (see also exports.map). scripts/check-glibc.sh verifies the
 * result; when it names a new symbol, add it here.
 *
 * Guarded by __GLIBC_PREREQ so the file is a no-op with an older toolchain, and
 * by __GLIBC__ so it is empty on musl.
 */
#define _GNU_SOURCE
#include <features.h>

#if defined(__GLIBC__) && defined(__linux__)

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#define COMPAT_OLD "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define COMPAT_OLD "GLIBC_2.17"
#else
#error "glibc_compat.c: add the base glibc symbol version for this architecture"
#endif

/* glibc 2.36 marks some parameters __attr_access((__none__)); forwarding them
 * trips -Wmaybe-uninitialized for no reason. */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define COMPAT_HIDDEN __attribute__((visibility("hidden")))
#define COMPAT_SYMVER(local, sym) __asm__(".symver " #local "," #sym "@" COMPAT_OLD)

/* Declare old_<name> bound to <name>@<base version>, and define a hidden <name>
 * that forwards to it. */
#define COMPAT_FORWARD(ret, name, params, args) \
  ret old_##name params;                        \
  COMPAT_SYMVER(old_##name, name);              \
  COMPAT_HIDDEN ret name params { return old_##name args; }

#if __GLIBC_PREREQ(2, 34)
/* pthread_* and friends: new GLIBC_2.34 versions in libc. */
COMPAT_FORWARD(int, pthread_create, (pthread_t *t, const pthread_attr_t *a, void *(*f)(void *), void *arg), (t, a, f, arg))
COMPAT_FORWARD(int, pthread_join, (pthread_t t, void **r), (t, r))
COMPAT_FORWARD(int, pthread_detach, (pthread_t t), (t))
COMPAT_FORWARD(int, pthread_once, (pthread_once_t *o, void (*f)(void)), (o, f))
COMPAT_FORWARD(int, pthread_key_create, (pthread_key_t *k, void (*d)(void *)), (k, d))
COMPAT_FORWARD(int, pthread_key_delete, (pthread_key_t k), (k))
COMPAT_FORWARD(void *, pthread_getspecific, (pthread_key_t k), (k))
COMPAT_FORWARD(int, pthread_setspecific, (pthread_key_t k, const void *v), (k, v))
COMPAT_FORWARD(int, pthread_mutex_trylock, (pthread_mutex_t *m), (m))
COMPAT_FORWARD(int, pthread_mutex_timedlock, (pthread_mutex_t *m, const struct timespec *t), (m, t))
COMPAT_FORWARD(int, pthread_mutexattr_init, (pthread_mutexattr_t *a), (a))
COMPAT_FORWARD(int, pthread_mutexattr_settype, (pthread_mutexattr_t *a, int t), (a, t))
COMPAT_FORWARD(int, pthread_mutexattr_destroy, (pthread_mutexattr_t *a), (a))
COMPAT_FORWARD(int, pthread_rwlock_init, (pthread_rwlock_t *l, const pthread_rwlockattr_t *a), (l, a))
COMPAT_FORWARD(int, pthread_rwlock_destroy, (pthread_rwlock_t *l), (l))
COMPAT_FORWARD(int, pthread_rwlock_rdlock, (pthread_rwlock_t *l), (l))
COMPAT_FORWARD(int, pthread_rwlock_tryrdlock, (pthread_rwlock_t *l), (l))
COMPAT_FORWARD(int, pthread_rwlock_wrlock, (pthread_rwlock_t *l), (l))
COMPAT_FORWARD(int, pthread_rwlock_trywrlock, (pthread_rwlock_t *l), (l))
COMPAT_FORWARD(int, pthread_rwlock_unlock, (pthread_rwlock_t *l), (l))
COMPAT_FORWARD(int, pthread_rwlock_timedrdlock, (pthread_rwlock_t *l, const struct timespec *t), (l, t))
COMPAT_FORWARD(int, pthread_rwlock_timedwrlock, (pthread_rwlock_t *l, const struct timespec *t), (l, t))
/* libstdc++'s __gthread_active_p looks at this one (weak reference). */
COMPAT_HIDDEN int __pthread_key_create(pthread_key_t *k, void (*d)(void *)) { return old_pthread_key_create(k, d); }
#endif

#if __GLIBC_PREREQ(2, 30)
/* Added in 2.30 (condition_variable / shared_timed_mutex waits on steady_clock).
 * Emulated with CLOCK_REALTIME deadlines: a wall-clock jump during a timed wait
 * can shorten or lengthen it. */
static struct timespec compat_realtime_deadline(clockid_t clk, const struct timespec *abs) {
  struct timespec now_c, now_r, dl;
  clock_gettime(clk, &now_c);
  clock_gettime(CLOCK_REALTIME, &now_r);
  int64_t ns = (int64_t)(abs->tv_sec - now_c.tv_sec) * 1000000000 + (abs->tv_nsec - now_c.tv_nsec);
  int64_t t = (int64_t)now_r.tv_sec * 1000000000 + now_r.tv_nsec + (ns > 0 ? ns : 0);
  dl.tv_sec = t / 1000000000;
  dl.tv_nsec = t % 1000000000;
  return dl;
}
COMPAT_HIDDEN int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk, const struct timespec *abs) {
  struct timespec dl = compat_realtime_deadline(clk, abs);
  return pthread_cond_timedwait(c, m, &dl);
}
COMPAT_HIDDEN int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t clk, const struct timespec *abs) {
  struct timespec dl = compat_realtime_deadline(clk, abs);
  return pthread_rwlock_timedrdlock(l, &dl);
}
COMPAT_HIDDEN int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t clk, const struct timespec *abs) {
  struct timespec dl = compat_realtime_deadline(clk, abs);
  return pthread_rwlock_timedwrlock(l, &dl);
}
COMPAT_HIDDEN int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *abs) {
  struct timespec dl = compat_realtime_deadline(clk, abs);
  return pthread_mutex_timedlock(m, &dl);
}
#endif

#if __GLIBC_PREREQ(2, 32)
/* libstdc++ (GCC 11+) reads this to skip atomics in shared_ptr/string refcounts.
 * 0 = "maybe multi-threaded": always correct, merely not the fast path. */
COMPAT_HIDDEN char __libc_single_threaded = 0;
#endif

#if __GLIBC_PREREQ(2, 33)
/* fstat64/stat64/lstat64 became real symbols in 2.33 (std::fstream, std::filesystem). */
COMPAT_HIDDEN int fstat64(int fd, struct stat64 *st) { return (int)syscall(SYS_fstat, fd, st); }
COMPAT_HIDDEN int stat64(const char *p, struct stat64 *st) { return (int)syscall(SYS_newfstatat, AT_FDCWD, p, st, 0); }
COMPAT_HIDDEN int lstat64(const char *p, struct stat64 *st) { return (int)syscall(SYS_newfstatat, AT_FDCWD, p, st, AT_SYMLINK_NOFOLLOW); }
COMPAT_HIDDEN int fstatat64(int fd, const char *p, struct stat64 *st, int flags) { return (int)syscall(SYS_newfstatat, fd, p, st, flags); }
#endif

#if __GLIBC_PREREQ(2, 36)
/* std::random_device uses arc4random when the toolchain's glibc has it. */
COMPAT_HIDDEN uint32_t arc4random(void) {
  uint32_t v;
  while (syscall(SYS_getrandom, &v, sizeof v, 0) != (long)sizeof v) {
  }
  return v;
}
#endif

#if __GLIBC_PREREQ(2, 29)
/* 2.29 gave exp/log/pow/exp2/log2 new versions (same results, different errno
 * wrapper). */
COMPAT_FORWARD(double, exp, (double x), (x))
COMPAT_FORWARD(double, log, (double x), (x))
COMPAT_FORWARD(double, pow, (double x, double y), (x, y))
COMPAT_FORWARD(double, exp2, (double x), (x))
COMPAT_FORWARD(double, log2, (double x), (x))
#endif

#endif /* __GLIBC__ && __linux__ */
