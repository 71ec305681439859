// httpload: a cheap HTTP/1.1 load client for bench/registry/load.sh, so the server is what is measured.
//
//   httpload -c CONNS -d SECONDS [-t THREADS] [-T TIMEOUT_S] HOST PORT PATH...
//
// Keep-alive connections, non-blocking, one epoll loop per thread. Every connection of a thread takes the next PATH of
// one cycle in turn (as bench/registry/cycle.lua does for wrk); a PATH with "/manifests/" in it is sent with a pull's
// Accept header. A response is read by its headers (status, Content-Length; chunked bodies count as errors: neither
// server sends one for these GETs); its body is discarded in the kernel with recv(MSG_TRUNC), which on TCP drops the
// bytes without copying them to user space. wrk copies every byte in 8 KiB reads and spent more CPU per GB than
// dbuild's server does, so in a pull it measured itself. The latency of a request runs from its send to its last byte.
// Prints one line, "WRK key=value ...", with the same keys as cycle.lua's done(), which load.sh reads.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEADER_MAX 16384
#define DISCARD_MAX (64 * 1024 * 1024)

static const char *ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
                            "application/vnd.docker.distribution.manifest.v2+json, "
                            "application/vnd.docker.distribution.manifest.list.v2+json";

enum phase { CONNECTING, SENDING, HEADERS, BODY };

struct conn {
  int fd;
  enum phase phase;
  const char *request;
  size_t request_len, sent;
  char header[HEADER_MAX];
  size_t header_len;
  long long remaining;
  int status;
  uint64_t started_us;
};

struct counters {
  uint64_t requests, bytes, status_errors, connect_errors, read_errors, write_errors, timeouts;
  uint32_t *latencies;
  size_t latency_count, latency_cap;
};

struct thread_args {
  int conns;
  struct counters counters;
};

static struct sockaddr_in target;
static char **requests;
static size_t *request_lens;
static int request_count;
static uint64_t deadline_us, timeout_us;

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void record(struct counters *c, uint64_t latency) {
  if (c->latency_count == c->latency_cap) {
    c->latency_cap = c->latency_cap ? c->latency_cap * 2 : 65536;
    c->latencies = realloc(c->latencies, c->latency_cap * sizeof *c->latencies);
    if (!c->latencies) { perror("httpload: realloc"); exit(1); }
  }
  c->latencies[c->latency_count++] = latency > UINT32_MAX ? UINT32_MAX : (uint32_t)latency;
}

static int open_conn(int epfd, struct conn *k) {
  k->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (k->fd < 0) return -1;
  int one = 1;
  setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  k->phase = CONNECTING;
  if (connect(k->fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) { close(k->fd); k->fd = -1; return -1; }
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = k};
  return epoll_ctl(epfd, EPOLL_CTL_ADD, k->fd, &ev);
}

static void drop_conn(int epfd, struct conn *k) {
  if (k->fd >= 0) { epoll_ctl(epfd, EPOLL_CTL_DEL, k->fd, NULL); close(k->fd); }
  k->fd = -1;
}

static void start_request(int epfd, struct conn *k, int *position) {
  *position = (*position + 1) % request_count;
  k->request = requests[*position];
  k->request_len = request_lens[*position];
  k->sent = 0;
  k->header_len = 0;
  k->phase = SENDING;
  k->started_us = now_us();
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = k};
  epoll_ctl(epfd, EPOLL_CTL_MOD, k->fd, &ev);
}

// Parses the status line and Content-Length; returns the header block's length, 0 if incomplete, -1 if unusable.
static long parse_headers(struct conn *k) {
  char *end = memmem(k->header, k->header_len, "\r\n\r\n", 4);
  if (!end) return k->header_len >= HEADER_MAX ? -1 : 0;
  *end = '\0';
  if (strncmp(k->header, "HTTP/1.", 7) != 0) return -1;
  k->status = atoi(k->header + 9);
  k->remaining = -1;
  for (char *line = strstr(k->header, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
    if (strncasecmp(line + 2, "Content-Length:", 15) == 0) k->remaining = atoll(line + 17);
    if (strncasecmp(line + 2, "Transfer-Encoding:", 18) == 0) return -1;
  }
  if (k->remaining < 0) k->remaining = 0; // e.g. 304: no body
  return (end - k->header) + 4;
}

// Reads what is there; returns 1 when the response is complete, 0 to wait, -1 on an error.
static int read_response(struct conn *k, struct counters *c) {
  for (;;) {
    if (k->phase == HEADERS) {
      ssize_t n = recv(k->fd, k->header + k->header_len, HEADER_MAX - k->header_len, 0);
      if (n == 0) return -1;
      if (n < 0) return errno == EAGAIN ? 0 : -1;
      c->bytes += (uint64_t)n;
      k->header_len += (size_t)n;
      long head = parse_headers(k);
      if (head < 0) return -1;
      if (head == 0) continue;
      long long extra = (long long)k->header_len - head;
      if (extra > k->remaining) return -1; // pipelining is never used
      k->remaining -= extra;
      k->phase = BODY;
    }
    if (k->remaining == 0) return 1;
    static char sink[1];
    size_t want = k->remaining > DISCARD_MAX ? DISCARD_MAX : (size_t)k->remaining;
    ssize_t n = recv(k->fd, sink, want, MSG_TRUNC);
    if (n == 0) return -1;
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->bytes += (uint64_t)n;
    k->remaining -= n;
  }
}

static void *run(void *arg) {
  struct thread_args *a = arg;
  struct counters *c = &a->counters;
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  struct conn *conns = calloc((size_t)a->conns, sizeof *conns);
  struct epoll_event *events = calloc((size_t)a->conns, sizeof *events);
  int position = -1;
  if (epfd < 0 || !conns || !events) { perror("httpload"); exit(1); }
  for (int i = 0; i < a->conns; i++) {
    conns[i].fd = -1;
    if (open_conn(epfd, &conns[i]) < 0) c->connect_errors++;
  }
  for (;;) {
    uint64_t now = now_us();
    if (now >= deadline_us) break;
    int n = epoll_wait(epfd, events, a->conns, 50);
    for (int i = 0; i < n; i++) {
      struct conn *k = events[i].data.ptr;
      if (k->phase == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (events[i].events & (EPOLLERR | EPOLLHUP))) { c->connect_errors++; drop_conn(epfd, k); continue; }
        start_request(epfd, k, &position);
      }
      if (k->phase == SENDING) {
        ssize_t w = send(k->fd, k->request + k->sent, k->request_len - k->sent, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) { c->write_errors++; drop_conn(epfd, k); continue; }
        if (w > 0) k->sent += (size_t)w;
        if (k->sent == k->request_len) {
          k->phase = HEADERS;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = k};
          epoll_ctl(epfd, EPOLL_CTL_MOD, k->fd, &ev);
        }
        continue;
      }
      int done = read_response(k, c);
      if (done < 0) { c->read_errors++; drop_conn(epfd, k); continue; }
      if (done == 0) continue;
      uint64_t finished = now_us();
      if (finished > deadline_us) break;
      c->requests++;
      if (k->status > 399) c->status_errors++;
      record(c, finished - k->started_us);
      start_request(epfd, k, &position);
    }
    // Reconnect dropped connections; count requests that outlived the timeout.
    now = now_us();
    for (int i = 0; i < a->conns; i++) {
      struct conn *k = &conns[i];
      if (k->fd >= 0 && k->phase != CONNECTING && now - k->started_us > timeout_us) { c->timeouts++; drop_conn(epfd, k); }
      if (k->fd < 0 && now < deadline_us && open_conn(epfd, k) < 0) c->connect_errors++;
    }
  }
  for (int i = 0; i < a->conns; i++) drop_conn(epfd, &conns[i]);
  close(epfd);
  free(conns);
  free(events);
  return NULL;
}

static int by_value(const void *x, const void *y) {
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  return (a > b) - (a < b);
}

static uint32_t percentile(const uint32_t *sorted, size_t count, double p) {
  if (count == 0) return 0;
  size_t rank = (size_t)(p / 100.0 * (double)count + 0.5);
  if (rank < 1) rank = 1;
  if (rank > count) rank = count;
  return sorted[rank - 1];
}

int main(int argc, char **argv) {
  int conns = 0, threads = 1, seconds = 0, timeout = 60, opt;
  while ((opt = getopt(argc, argv, "c:d:t:T:")) != -1) {
    switch (opt) {
    case 'c': conns = atoi(optarg); break;
    case 'd': seconds = atoi(optarg); break;
    case 't': threads = atoi(optarg); break;
    case 'T': timeout = atoi(optarg); break;
    default: goto usage;
    }
  }
  if (conns < 1 || seconds < 1 || threads < 1 || threads > conns || timeout < 1 || argc - optind < 3) goto usage;
  const char *host = argv[optind];
  int port = atoi(argv[optind + 1]);
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &target.sin_addr) != 1) { fprintf(stderr, "httpload: %s is not an IPv4 address\n", host); return 2; }
  request_count = argc - optind - 2;
  requests = calloc((size_t)request_count, sizeof *requests);
  request_lens = calloc((size_t)request_count, sizeof *request_lens);
  for (int i = 0; i < request_count; i++) {
    const char *path = argv[optind + 2 + i];
    int manifest = strstr(path, "/manifests/") != NULL;
    int len = asprintf(&requests[i], "GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s%s%s\r\n", path, host, port,
                       manifest ? "Accept: " : "", manifest ? ACCEPT : "", manifest ? "\r\n" : "");
    if (len < 0) { perror("httpload"); return 1; }
    request_lens[i] = (size_t)len;
  }
  timeout_us = (uint64_t)timeout * 1000000u;
  uint64_t started = now_us();
  deadline_us = started + (uint64_t)seconds * 1000000u;
  pthread_t *ids = calloc((size_t)threads, sizeof *ids);
  struct thread_args *args = calloc((size_t)threads, sizeof *args);
  for (int t = 0; t < threads; t++) {
    args[t].conns = conns / threads + (t < conns % threads);
    if (pthread_create(&ids[t], NULL, run, &args[t]) != 0) { perror("httpload: pthread_create"); return 1; }
  }
  struct counters total = {0};
  for (int t = 0; t < threads; t++) {
    pthread_join(ids[t], NULL);
    struct counters *c = &args[t].counters;
    total.requests += c->requests; total.bytes += c->bytes; total.status_errors += c->status_errors;
    total.connect_errors += c->connect_errors; total.read_errors += c->read_errors;
    total.write_errors += c->write_errors; total.timeouts += c->timeouts;
    for (size_t i = 0; i < c->latency_count; i++) record(&total, c->latencies[i]);
  }
  uint64_t duration = now_us() - started;
  qsort(total.latencies, total.latency_count, sizeof *total.latencies, by_value);
  printf("WRK requests=%llu bytes=%llu duration_us=%llu p50_us=%u p90_us=%u p99_us=%u max_us=%u status_errors=%llu "
         "connect_errors=%llu read_errors=%llu write_errors=%llu timeouts=%llu\n",
         (unsigned long long)total.requests, (unsigned long long)total.bytes, (unsigned long long)duration,
         percentile(total.latencies, total.latency_count, 50), percentile(total.latencies, total.latency_count, 90),
         percentile(total.latencies, total.latency_count, 99),
         total.latency_count ? total.latencies[total.latency_count - 1] : 0,
         (unsigned long long)total.status_errors, (unsigned long long)total.connect_errors,
         (unsigned long long)total.read_errors, (unsigned long long)total.write_errors, (unsigned long long)total.timeouts);
  return 0;
usage:
  fprintf(stderr, "usage: httpload -c CONNS -d SECONDS [-t THREADS] [-T TIMEOUT_S] HOST PORT PATH...\n");
  return 2;
}
