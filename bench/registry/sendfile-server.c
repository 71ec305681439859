// sendfile-server.c PORT DIR : the pull ceiling of bench/registry/load.sh (CEILING=1). The least a server can do to
// answer the pull load: HTTP/1.1 keep-alive, a thread per connection, no storage layout, no checks, no logging;
// GET /v2/REPO/manifests/REF answers DIR/REPO/manifest.json and GET /v2/REPO/blobs/sha256:HEX answers
// DIR/REPO/blobs/HEX, each with Content-Length and the bytes handed to the kernel with sendfile(2) (no copy through
// user space; Nagle left on, the header sent with MSG_MORE). Anything else is 404. What it reaches on a machine is
// the most any registry could reach there with the same client, so the load benchmark prints it next to the two
// servers. Talks to 127.0.0.1 only.
#define _GNU_SOURCE
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

static const char *root;

// Maps a request target to a file under root; 0 when the target is not one the load asks for.
static int map_path(const char *target, char *out, size_t size) {
  char repo[256], rest[512];
  if (sscanf(target, "/v2/%255[^/]/manifests/%511s", repo, rest) == 2) {
    return snprintf(out, size, "%s/%s/manifest.json", root, repo) < (int)size;
  }
  if (sscanf(target, "/v2/%255[^/]/blobs/sha256:%511s", repo, rest) == 2 && !strchr(rest, '/') && !strstr(rest, "..")) {
    return snprintf(out, size, "%s/%s/blobs/%s", root, repo, rest) < (int)size;
  }
  return 0;
}

static int answer(int c, const char *request) {
  char method[16], target[1024], path[2048], head[256];
  if (sscanf(request, "%15s %1023s", method, target) != 2) return -1;
  int fd = map_path(target, path, sizeof path) ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) close(fd);
    const char *missing = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    return send(c, missing, strlen(missing), 0) < 0 ? -1 : 0;
  }
  int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n\r\n", (long long)st.st_size);
  int rc = send(c, head, n, MSG_MORE) == n ? 0 : -1;
  off_t offset = 0;
  while (rc == 0 && offset < st.st_size) {
    if (sendfile(c, fd, &offset, st.st_size - offset) <= 0) rc = -1;
  }
  close(fd);
  return rc;
}

static void *connection(void *arg) {
  int c = (int)(long)arg, have = 0;
  char buffer[16384];
  for (;;) {
    int n = recv(c, buffer + have, sizeof buffer - 1 - have, 0);
    if (n <= 0) break;
    have += n;
    buffer[have] = 0;
    char *end;
    while ((end = strstr(buffer, "\r\n\r\n"))) {
      if (answer(c, buffer) != 0) goto done;
      int used = end + 4 - buffer;
      memmove(buffer, buffer + used, have - used + 1);
      have -= used;
    }
    if (have == (int)sizeof buffer - 1) break;  // a request head larger than the buffer: not the load's
  }
done:
  close(c);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: sendfile-server PORT DIR\n"); return 2; }
  root = argv[2];
  signal(SIGPIPE, SIG_IGN);
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (bind(l, (struct sockaddr *)&address, sizeof address) != 0 || listen(l, 1024) != 0) { perror("sendfile-server"); return 1; }
  for (;;) {
    int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) continue;
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attributes, 256 * 1024);
    if (pthread_create(&thread, &attributes, connection, (void *)(long)c) != 0) close(c);
    pthread_attr_destroy(&attributes);
  }
}
