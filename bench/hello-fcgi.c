/* hello-fcgi.c — the ceiling for bench/run.sh: the smallest libfcgi
 * pre-forked pool, shaped like cnova-api (master opens the socket, forks N
 * workers, re-forks any that die), answering every request with
 * {"hello": "world"}.
 *
 *   hello-fcgi SOCKET [WORKERS]      WORKERS defaults to 2 x cores
 *
 * Stays in the foreground; SIGTERM or SIGINT stops the workers, removes the
 * socket and exits 0. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

#define MAX_WORKERS 1024

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

static void worker(int fd)
{
    FCGX_Request req;

    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    if (FCGX_Init() != 0 || FCGX_InitRequest(&req, fd, 0) != 0)
        _exit(1);
    while (FCGX_Accept_r(&req) >= 0) {
        char rest[4096];

        FCGX_PutS("Content-Type: application/json\r\n\r\n{\"hello\": \"world\"}", req.out);
        /* closed as cnova-api closes (fcgi-api/main.c): the request read to
         * its end, then no lingering close */
        while (FCGX_GetStr(rest, sizeof rest, req.in) > 0)
            ;
        FCGX_Detach(&req);
        FCGX_Finish_r(&req);
    }
    _exit(0);
}

static pid_t spawn(int fd)
{
    pid_t pid = fork();

    if (pid == 0)
        worker(fd);
    if (pid < 0)
        perror("hello-fcgi: fork");
    return pid;
}

int main(int argc, char **argv)
{
    pid_t pids[MAX_WORKERS];
    long n;
    int fd;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s SOCKET [WORKERS]\n", argv[0]);
        return 2;
    }
    n = argc == 3 ? strtol(argv[2], NULL, 10) : 0;
    if (n <= 0)
        n = 2 * sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 2;
    if (n > MAX_WORKERS)
        n = MAX_WORKERS;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: waitpid() returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    unlink(argv[1]);
    fd = FCGX_OpenSocket(argv[1], 1024);
    if (fd < 0) {
        fprintf(stderr, "hello-fcgi: cannot listen on %s\n", argv[1]);
        return 1;
    }
    chmod(argv[1], 0777); /* nginx workers may run as another user */

    for (long i = 0; i < n; i++)
        pids[i] = spawn(fd);
    fprintf(stderr, "hello-fcgi: %ld workers on %s\n", n, argv[1]);

    while (!stopping) {
        int status;
        pid_t dead = waitpid(-1, &status, 0);

        if (dead < 0) {
            if (errno == EINTR)
                continue;
            sleep(1); /* no children (all forks failed): retry below */
        }
        for (long i = 0; i < n && !stopping; i++) {
            if (pids[i] == dead || pids[i] < 0) {
                pids[i] = spawn(fd);
                if (pids[i] < 0)
                    sleep(1);
            }
        }
    }

    for (long i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    unlink(argv[1]);
    return 0;
}
