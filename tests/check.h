/*
 * check.h - assertions for hpcpipe's tests: print the location and both
 * operands, then abort (whatever NDEBUG says). A test is a main() calling
 * check functions; each case is named in a comment or with CASE().
 */
#ifndef HP_CHECK_H
#define HP_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CASE(name) fprintf(stderr, "case: %s\n", name)

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#define CHECK_EQ(a, b)                                                         \
  do {                                                                         \
    long long ca_ = (long long)(a), cb_ = (long long)(b);                      \
    if (ca_ != cb_) {                                                          \
      fprintf(stderr, "%s:%d: %s == %s (%lld vs %lld)\n", __FILE__, __LINE__, \
              #a, #b, ca_, cb_);                                               \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#define CHECK_STR_EQ(a, b)                                                     \
  do {                                                                         \
    const char *ca_ = (a), *cb_ = (b);                                         \
    if (!ca_ || !cb_ || strcmp(ca_, cb_) != 0) {                               \
      fprintf(stderr, "%s:%d: %s == %s (\"%s\" vs \"%s\")\n", __FILE__,       \
              __LINE__, #a, #b, ca_ ? ca_ : "(null)", cb_ ? cb_ : "(null)");   \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* The message contains the substring. */
#define CHECK_CONTAINS(msg, sub)                                               \
  do {                                                                         \
    const char *cm_ = (msg), *cs_ = (sub);                                     \
    if (!cm_ || !strstr(cm_, cs_)) {                                           \
      fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,    \
              __LINE__, cm_ ? cm_ : "(null)", cs_);                            \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#define CHECK_OK(expr, errp)                                                   \
  do {                                                                         \
    int co_ = (expr);                                                          \
    if (co_ != 0) {                                                            \
      fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__,      \
              #expr, co_, (errp)->msg);                                        \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#endif
