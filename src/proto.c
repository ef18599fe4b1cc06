/*
 * proto.c - encoding of fixed-width fields (little-endian, as every
 * supported machine is) and the send/receive wrappers. Receiving polls
 * MPI_Iprobe: a short spin (20 us) for latency, then sleeps that double
 * up to 1 ms, so a waiting rank 0 or an idle worker does not hold a core.
 */
#define _POSIX_C_SOURCE 200809L
#include "proto.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

const char *hp__msg_name(int kind) {
  switch (kind) {
#define HP__T(name, s)                                                         \
  case HP_MSG_##name:                                                          \
    return s;
    HP_TAG_MAP(HP__T)
#undef HP__T
  default:
    return "unknown";
  }
}

void hp__put_u8(hp_buf *b, uint8_t x) {
  hp__buf_put(b, &x, 1);
}

void hp__put_u32(hp_buf *b, uint32_t x) {
  hp__buf_put(b, &x, 4);
}

void hp__put_u64(hp_buf *b, uint64_t x) {
  hp__buf_put(b, &x, 8);
}

void hp__put_f64(hp_buf *b, double x) {
  hp__buf_put(b, &x, 8);
}

void hp__put_bytes(hp_buf *b, const void *p, size_t n) {
  hp__put_u64(b, (uint64_t)n);
  hp__buf_put(b, p, n);
}

static const void *take(hp_rd *r, size_t n) {
  if (r->bad || r->len - r->pos < n) {
    r->bad = 1;
    return NULL;
  }
  const void *p = r->p + r->pos;
  r->pos += n;
  return p;
}

uint8_t hp__get_u8(hp_rd *r) {
  const uint8_t *p = take(r, 1);
  return p ? *p : 0;
}

uint32_t hp__get_u32(hp_rd *r) {
  uint32_t x = 0;
  const void *p = take(r, 4);
  if (p)
    memcpy(&x, p, 4);
  return x;
}

uint64_t hp__get_u64(hp_rd *r) {
  uint64_t x = 0;
  const void *p = take(r, 8);
  if (p)
    memcpy(&x, p, 8);
  return x;
}

double hp__get_f64(hp_rd *r) {
  double x = 0;
  const void *p = take(r, 8);
  if (p)
    memcpy(&x, p, 8);
  return x;
}

const void *hp__get_bytes(hp_rd *r, size_t *n) {
  uint64_t len = hp__get_u64(r);
  *n = 0;
  if (r->bad || len > r->len - r->pos) {
    r->bad = 1;
    return NULL;
  }
  *n = (size_t)len;
  return take(r, (size_t)len);
}

static int mpi_fail(hp_error *err, int rc, const char *what) {
  char s[MPI_MAX_ERROR_STRING];
  int n = 0;
  MPI_Error_string(rc, s, &n);
  return hp__fail(err, HP_EMPI, "%s: %s", what, s);
}

int hp__send(MPI_Comm comm, int to, const hp_buf *b, hp_error *err) {
  if (b->len > (size_t)INT32_MAX)
    return hp__fail(err, HP_EMPI, "message of %zu bytes is too large",
                    b->len);
  int rc = MPI_Send(b->data, (int)b->len, MPI_BYTE, to, HP_MPI_TAG, comm);
  return rc == MPI_SUCCESS ? HP_OK : mpi_fail(err, rc, "MPI_Send");
}

int hp__outbox_progress(hp_outbox *o, hp_error *err) {
  size_t k = 0;
  for (size_t i = 0; i < o->n; i++) {
    int done = 0;
    int rc = MPI_Test(&o->req[i], &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS)
      return mpi_fail(err, rc, "MPI_Test");
    if (done) {
      hp__buf_free(&o->buf[i]);
      continue;
    }
    o->req[k] = o->req[i];
    o->buf[k++] = o->buf[i];
  }
  o->n = k;
  return HP_OK;
}

int hp__isend(hp_outbox *o, MPI_Comm comm, int to, hp_buf *b, hp_error *err) {
  return hp__isend_tag(o, comm, to, HP_MPI_TAG, b, err);
}

int hp__isend_tag(hp_outbox *o, MPI_Comm comm, int to, int tag, hp_buf *b,
                  hp_error *err) {
  if (b->len > (size_t)INT32_MAX)
    return hp__fail(err, HP_EMPI, "message of %zu bytes is too large",
                    b->len);
  HP_TRY(hp__outbox_progress(o, err));
  if (o->n == o->cap) {
    size_t c = o->cap;
    hp__grow(&o->req, &c, o->n + 1, sizeof *o->req);
    hp__grow(&o->buf, &o->cap, o->n + 1, sizeof *o->buf);
  }
  o->buf[o->n] = *b;
  memset(b, 0, sizeof *b);
  hp_buf *m = &o->buf[o->n];
  int rc = MPI_Isend(m->data, (int)m->len, MPI_BYTE, to, tag, comm,
                     &o->req[o->n]);
  if (rc != MPI_SUCCESS) {
    hp__buf_free(m);
    return mpi_fail(err, rc, "MPI_Isend");
  }
  o->n++;
  return HP_OK;
}

int hp__outbox_drain(hp_outbox *o, hp_error *err) {
  int rc = o->n ? MPI_Waitall((int)o->n, o->req, MPI_STATUSES_IGNORE)
                : MPI_SUCCESS;
  for (size_t i = 0; i < o->n; i++)
    hp__buf_free(&o->buf[i]);
  free(o->req);
  free(o->buf);
  memset(o, 0, sizeof *o);
  return rc == MPI_SUCCESS ? HP_OK : mpi_fail(err, rc, "MPI_Waitall");
}


/* A wait spins on MPI_Iprobe for SPIN_S seconds, then sleeps from
 * SLEEP0_NS, doubling up to 1 ms. A longer spin answers a message a few
 * microseconds sooner but takes a core from the workers when ranks share
 * cores: rank 0 waits once per message, and spinning 2,000 probes each
 * time (as it did) used a whole core through a run of short tasks on 2
 * cores with 3 ranks. A worker that is busy has its next task queued
 * (HPCPIPE_DEPTH), so a sleep's delay is hidden. */
#define SPIN_S    20e-6
#define SLEEP0_NS 20000L

static int recv_poll(MPI_Comm comm, int from, int tag, hp_buf *msg, int *src,
                     double timeout, int *got, hp_error *err) {
  MPI_Status st;
  int flag = 0;
  long spins = 0, sleep_ns = SLEEP0_NS;
  double now = hp__mono_now(), spin_end = now + SPIN_S;
  double end = timeout >= 0 ? now + timeout : 0;
  *got = 0;
  for (;;) {
    int rc = MPI_Iprobe(from, tag, comm, &flag, &st);
    if (rc != MPI_SUCCESS)
      return mpi_fail(err, rc, "MPI_Iprobe");
    if (flag)
      break;
    if (timeout != 0 && (++spins % 16 != 0 || hp__mono_now() < spin_end))
      continue;
    if (timeout >= 0 && hp__mono_now() >= end)
      return HP_OK;
    struct timespec ts = {0, sleep_ns};
    nanosleep(&ts, NULL);
    if (sleep_ns < 1000000)
      sleep_ns *= 2;
  }
  int n = 0;
  MPI_Get_count(&st, MPI_BYTE, &n);
  msg->len = 0;
  hp__buf_reserve(msg, (size_t)n);
  int rc = MPI_Recv(msg->data, n, MPI_BYTE, st.MPI_SOURCE, tag, comm,
                    MPI_STATUS_IGNORE);
  if (rc != MPI_SUCCESS)
    return mpi_fail(err, rc, "MPI_Recv");
  msg->len = (size_t)n;
  msg->data[n] = '\0';
  *src = st.MPI_SOURCE;
  *got = 1;
  return HP_OK;
}

int hp__recv_poll(MPI_Comm comm, int from, hp_buf *msg, int *src,
                  double timeout, int *got, hp_error *err) {
  return recv_poll(comm, from, HP_MPI_TAG, msg, src, timeout, got, err);
}

int hp__recv(MPI_Comm comm, int from, hp_buf *msg, int *src, hp_error *err) {
  int got;
  return hp__recv_poll(comm, from, msg, src, -1, &got, err);
}

int hp__recv_tag_now(MPI_Comm comm, int from, int tag, hp_buf *msg, int *got,
                     hp_error *err) {
  int src;
  return recv_poll(comm, from, tag, msg, &src, 0, got, err);
}

void hp__host_ids(MPI_Comm comm, const void *mine, int len, int *host,
                  void *cpus) {
  int rank, size, leader = -1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  MPI_Comm local;
  if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL,
                          &local) == MPI_SUCCESS) {
    if (MPI_Allreduce(&rank, &leader, 1, MPI_INT, MPI_MIN, local) !=
        MPI_SUCCESS)
      leader = -1;
    MPI_Comm_free(&local);
  }
  if (MPI_Gather(&leader, 1, MPI_INT, host, 1, MPI_INT, 0, comm) !=
          MPI_SUCCESS &&
      rank == 0)
    for (int r = 0; r < size; r++)
      host[r] = -1;
  if (MPI_Gather(mine, len, MPI_BYTE, cpus, len, MPI_BYTE, 0, comm) !=
          MPI_SUCCESS &&
      rank == 0)
    memset(cpus, 0, (size_t)size * (size_t)len);
}
