/* main.c — cnova-api: the master process and its pre-forked FastCGI pool.
 *
 * The master loads config, route table and schemas once, opens the FastCGI
 * socket, forks [api] workers children and re-forks any that die. Each child
 * serves one request at a time with its own PostgreSQL connection. SIGTERM
 * to the master stops the children, each after the request in flight.
 * SIGHUP to the master reads the policy file again, in the master and in
 * each child (before its next request). */
#include <errno.h>
#include <fcgiapp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "metrics.h"
#include "policy.h"

static volatile sig_atomic_t stopping, reload_policy;
/* The policy file's generation, shared with the workers (a page mapped
 * before they fork): the master counts its SIGHUPs here, and a worker that
 * sees a number it has not loaded reads the file again before its next
 * request. No signal reaches the workers: one arriving in libfcgi's
 * select() after accept() would drop the connection nginx just made. */
static volatile unsigned *policy_generation;

static void on_term(int sig) {
    (void)sig;
    stopping = 1;
    /* libfcgi retries accept() on EINTR unless told a shutdown is pending */
    FCGX_ShutdownPending();
}

/* SIGHUP (master): the policy file is read again. */
static void on_hup(int sig) {
    (void)sig;
    reload_policy = 1;
}

static void set_signals(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_term; /* no SA_RESTART: accept() returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The request body as it arrives (struct req's body_read). libfcgi reads
 * nginx's stdin records as asked: a body is never held whole here. */
static long read_stdin(void *arg, char *buf, size_t n) {
    FCGX_Stream *in = arg;
    int got = FCGX_GetStr(buf, n > INT_MAX ? INT_MAX : (int)n, in);
    if (got <= 0 && FCGX_GetError(in)) return -1;
    return got < 0 ? -1 : got;
}

/* Copies a streamed response body (r->resp_fd, r->resp_len bytes). */
static void write_file(struct req *r, FCGX_Stream *out) {
    char buf[65536];
    long long left = r->resp_len;
    while (left > 0) {
        ssize_t n = read(r->resp_fd, buf, left < (long long)sizeof buf ? (size_t)left : sizeof buf);
        if (n <= 0) {
            log_msg(LOG_ERROR, r->request_id, "reading the response file: %s",
                    n ? strerror(errno) : "unexpected end");
            break; /* the client sees a body shorter than Content-Length */
        }
        if (FCGX_PutStr(buf, (int)n, out) < 0) break; /* the client went away */
        left -= n;
    }
}

static void serve_compute(struct req *r, struct sbuf *out) {
    api_handle(r);
    api_render(r, out);
}

/* The faces of the program, as data: nginx's server block names the face
 * of its requests in the CNOVA_FACE parameter ("compute" when none). */
typedef void (*face_fn)(struct req *r, struct sbuf *out);
static const struct {
    const char *name;
    face_fn serve;
} faces[] = {{"compute", serve_compute}, {"metadata", metadata_serve}, {"metrics", metrics_serve}};

static face_fn face_of(FCGX_ParamArray env) {
    const char *name = FCGX_GetParam("CNOVA_FACE", env);
    for (size_t i = 0; name && i < sizeof faces / sizeof *faces; i++)
        if (!strcmp(faces[i].name, name)) return faces[i].serve;
    return serve_compute;
}

static void serve_one(FCGX_Request *fr) {
    struct req r;
    req_from_params(&r, fr->envp);
    r.body_read = read_stdin;
    r.body_arg = fr->in;
    struct sbuf out = {0};
    face_of(fr->envp)(&r, &out);
    FCGX_PutStr(out.s, (int)out.len, fr->out);
    sbuf_free(&out);
    if (r.resp_fd >= 0) write_file(&r, fr->out);
    req_free(&r);
}

static void worker(int sock) {
    set_signals();
    signal(SIGHUP, SIG_IGN); /* the master's, see policy_generation */
    unsigned loaded = policy_generation ? *policy_generation : 0;
    FCGX_Request fr;
    FCGX_InitRequest(&fr, sock, 0);
    db_open(); /* a failure here is retried by the first query */
    while (!stopping) {
        if (FCGX_Accept_r(&fr) < 0) {
            if (stopping) break;
            continue;
        }
        if (policy_generation && *policy_generation != loaded) {
            loaded = *policy_generation;
            policy_reload();
        }
        serve_one(&fr);
        /* Read the request to its end (nginx's closing empty stdin record),
         * then close without libfcgi's lingering close (shutdown, then
         * wait for nginx to hang up): with nothing left unread the close
         * cannot reset nginx's side, and the worker is free at once. */
        char rest[4096];
        while (FCGX_GetStr(rest, sizeof rest, fr.in) > 0)
            ;
        FCGX_Detach(&fr);
        FCGX_Finish_r(&fr);
    }
    db_close();
    rpc_close();
    _exit(0);
}

static pid_t spawn(int sock) {
    pid_t master = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* a master killed with -9 takes its workers along (each ends its
         * request first): the master started again serves a new socket,
         * which these would never see */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != master) _exit(0);
        worker(sock);
    }
    if (pid < 0) log_error("fork: %s", strerror(errno));
    return pid;
}

static long default_workers(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? 2 * n : 2;
}

int main(int argc, char **argv) {
    const char *conf = "etc/cnova.conf";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            conf = argv[++i];
        else {
            fprintf(stderr, "usage: %s --config FILE\n", argv[0]);
            return 2;
        }
    }
    if (config_load(conf)) {
        fprintf(stderr, "cnova-api: cannot read %s: %s\n", conf, strerror(errno));
        return 1;
    }
    log_init("cnova-api", config_bool("DEFAULT", "debug", 0) ? LOG_DEBUG : LOG_INFO);
    router_init();
    if (schemas_load(config_get("api", "schemas", "api/request-schemas.json")) || auth_init() ||
        metrics_init())
        return 1;
    policy_init(conf); /* a bad policy file is logged: the defaults stand */
    if (FCGX_Init()) return 1;
    const char *path = config_get("api", "socket", "run/cnova-api.sock");
    unlink(path);
    int sock = FCGX_OpenSocket(path, 1024);
    if (sock < 0) {
        log_error("cannot open FastCGI socket %s", path);
        return 1;
    }
    chmod(path, 0666);
    long n = config_int("api", "workers", 0);
    if (n <= 0) n = default_workers();
    pid_t *kids = calloc((size_t)n, sizeof *kids);
    void *page = mmap(NULL, sizeof *policy_generation, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED) policy_generation = page;
    set_signals();
    for (long i = 0; i < n; i++) kids[i] = spawn(sock);
    metrics_workers(n, n);
    log_info("cnova-api: %ld workers on %s", n, path);
    while (!stopping) {
        if (reload_policy) { /* the master's copy too, for the workers it forks */
            reload_policy = 0;
            policy_reload();
            if (policy_generation) __atomic_add_fetch(policy_generation, 1, __ATOMIC_SEQ_CST);
        }
        int status;
        pid_t dead = waitpid(-1, &status, 0);
        if (dead < 0) continue; /* EINTR: SIGTERM or SIGHUP, checked above */
        for (long i = 0; i < n; i++)
            if (kids[i] == dead && !stopping) {
                log_warn("worker %d exited (status %d); starting a new one", (int)dead, status);
                kids[i] = spawn(sock);
                if (kids[i] < 0) sleep(1);
            }
        long alive = 0;
        for (long i = 0; i < n; i++) alive += kids[i] > 0;
        metrics_workers(n, alive);
    }
    log_info("cnova-api: stopping %ld workers", n);
    for (long i = 0; i < n; i++)
        if (kids[i] > 0) kill(kids[i], SIGTERM);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    unlink(path);
    free(kids);
    policy_free();
    config_free();
    return 0;
}
