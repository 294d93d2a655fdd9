/* hostnet.c — bridges, qdhcp- namespaces and dnsmasq for guest networks
 * (see hostnet.h for the layout). Every command is an argument vector run by
 * fork+exec, its exit status checked and its stderr kept for the message;
 * state is read back from the kernel and the pid file, so that every call is
 * idempotent and a restarted compute finds its networks as it left them. */
#define _GNU_SOURCE
#include "hostnet.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define METADATA_IP "169.254.169.254"
#define LEASE_TIME "86400s"

static _Thread_local char why_buf[512];

static int fail(const char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char **why, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why_buf, sizeof why_buf, fmt, ap);
    va_end(ap);
    if (why) *why = why_buf;
    return -1;
}

/* ---- names ---- */

static void named(const char *prefix, const char *id, size_t keep, char *out, size_t len) {
    snprintf(out, len, "%s%.*s", prefix, (int)keep, id ? id : "");
}
void hostnet_bridge_name(const char *network_id, char *out, size_t len) {
    named("brq", network_id, 11, out, len);
}
void hostnet_netns_name(const char *network_id, char *out, size_t len) {
    named("qdhcp-", network_id, 48, out, len);
}

/* The names of one network: it and its files. */
struct names {
    char bridge[HOSTNET_NAME_LEN], tap[HOSTNET_NAME_LEN], nsdev[HOSTNET_NAME_LEN];
    char netns[HOSTNET_NETNS_LEN];
    char dir[512], hosts[600], opts[600], leases[600], pid[600], log[600], err[600];
    char md_ports[600], md_pid[600], md_log[600]; /* the metadata proxy's */
};

/* Network ids name interfaces and files: hex digits and dashes only. */
static int names_of(const char *state_dir, const char *id, struct names *m, const char **why) {
    size_t len = id ? strlen(id) : 0;
    if (len < 11 || len > 40 || strspn(id, "0123456789abcdefABCDEF-") != len)
        return fail(why, "network id %s: want a uuid", id ? id : "(none)");
    if (!state_dir || !*state_dir) return fail(why, "no state directory");
    hostnet_bridge_name(id, m->bridge, sizeof m->bridge);
    named("tap", id, 11, m->tap, sizeof m->tap);
    named("ns-", id, 11, m->nsdev, sizeof m->nsdev);
    hostnet_netns_name(id, m->netns, sizeof m->netns);
    if ((size_t)snprintf(m->dir, sizeof m->dir, "%s/dhcp/%s", state_dir, id) >= sizeof m->dir)
        return fail(why, "state directory %s: path too long", state_dir);
    snprintf(m->hosts, sizeof m->hosts, "%s/hosts", m->dir);
    snprintf(m->opts, sizeof m->opts, "%s/opts", m->dir);
    snprintf(m->leases, sizeof m->leases, "%s/leases", m->dir);
    snprintf(m->pid, sizeof m->pid, "%s/pid", m->dir);
    snprintf(m->log, sizeof m->log, "%s/log", m->dir);
    snprintf(m->err, sizeof m->err, "%s/dnsmasq.err", m->dir);
    snprintf(m->md_ports, sizeof m->md_ports, "%s/metadata-ports", m->dir);
    snprintf(m->md_pid, sizeof m->md_pid, "%s/metadata-proxy.pid", m->dir);
    snprintf(m->md_log, sizeof m->md_log, "%s/metadata-proxy.log", m->dir);
    return 0;
}

/* ---- running commands ---- */

/* Runs argv (PATH looked up) inside netns (NULL: this one). Its stdout goes
 * to *out when out is given, else nowhere; its stderr to the file err_path
 * when given (for daemons, which keep no pipe of ours open), else into the
 * message. Returns the exit status (0..255), or -1 when it could not run or
 * died of a signal, with *why set in both failing cases. */
static int run(const char *netns, const char *const argv[], struct sbuf *out, const char *err_path,
               const char **why) {
    /* everything the child needs is made before the fork: the compute may
     * have threads, and the child only calls what is safe after fork */
    char nspath[128] = "", progs[4][128];
    if (netns) snprintf(nspath, sizeof nspath, "/run/netns/%s", netns);
    static const char *const dirs[] = {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"};
    for (int i = 0; i < 4; i++)
        snprintf(progs[i], sizeof progs[i], "%s%s", dirs[i], argv[0]);
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if ((out && pipe2(po, O_CLOEXEC) < 0) || (!err_path && pipe2(pe, O_CLOEXEC) < 0)) {
        int e = errno;
        close(po[0]), close(po[1]);
        return fail(why, "pipe: %s", strerror(e));
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        return fail(why, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        int null = open("/dev/null", O_RDWR);
        int err = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : pe[1];
        dup2(null, 0);
        dup2(out ? po[1] : null, 1);
        dup2(err >= 0 ? err : null, 2);
        close_range(3, ~0U, 0); /* the compute's sockets stay with the compute */
        if (netns) {
            int fd = open(nspath, O_RDONLY | O_CLOEXEC);
            if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
                static const char msg[] = "cannot enter the network namespace";
                ssize_t ignored = write(2, msg, sizeof msg - 1);
                (void)ignored;
                _exit(126);
            }
        }
        /* the system folders first: a compute started with a short PATH
         * still finds ip and dnsmasq in sbin */
        for (int i = 0; i < 4 && !strchr(argv[0], '/'); i++)
            execv(progs[i], (char *const *)argv);
        execvp(argv[0], (char *const *)argv);
        static const char msg[] = "command not found";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        _exit(127);
    }
    struct sbuf err = {0};
    char buf[4096];
    ssize_t k;
    if (out) {
        close(po[1]);
        while ((k = read(po[0], buf, sizeof buf)) > 0 || (k < 0 && errno == EINTR))
            if (k > 0) sbuf_add(out, buf, (size_t)k);
        close(po[0]);
    }
    if (!err_path) {
        close(pe[1]);
        while ((k = read(pe[0], buf, sizeof buf)) > 0 || (k < 0 && errno == EINTR))
            if (k > 0 && err.len < 2048) sbuf_add(&err, buf, (size_t)k);
        close(pe[0]);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            sbuf_free(&err);
            return fail(why, "%s: waitpid: %s", argv[0], strerror(errno));
        }
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (rc != 0) {
        struct sbuf cmd = {0};
        for (int i = 0; argv[i] && cmd.len < 200; i++)
            sbuf_addf(&cmd, "%s%s", i ? " " : "", argv[i]);
        while (err.len && isspace((unsigned char)err.s[err.len - 1]))
            err.s[--err.len] = 0;
        if (rc < 0)
            fail(why, "%s: killed by signal %d", cmd.s, WTERMSIG(status));
        else
            fail(why, "%s: exit %d%s%s", cmd.s, rc, err.len ? ": " : "", err.len ? err.s : "");
        sbuf_free(&cmd);
    }
    sbuf_free(&err);
    return rc;
}

/* run() for commands that must succeed: 0 or -1. */
static int must(const char *netns, const char *const argv[], const char **why) {
    return run(netns, argv, NULL, NULL, why) == 0 ? 0 : -1;
}

static int link_exists_here(const char *name) {
    return if_nametoindex(name) != 0;
}

/* Deletes an interface of the root namespace; one already gone is fine
 * (also when it went while we asked). */
static int link_del(const char *name, const char **why) {
    if (!link_exists_here(name)) return 0;
    const char *del[] = {"ip", "link", "del", name, NULL};
    return must(NULL, del, why) == 0 || !link_exists_here(name) ? 0 : -1;
}

/* Writes "1" to a sysctl of an interface of the root namespace; best effort
 * (IPv6 may be off altogether). */
static void ipv6_off(const char *dev) {
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", dev);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    if (write(fd, "1", 1) != 1) log_warn("hostnet: %s: %s", path, strerror(errno));
    close(fd);
}

/* ---- files ---- */

static int mkdirs(const char *path, const char **why) {
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return fail(why, "mkdir %s: %s", p, strerror(errno));
            *s = c;
            if (!c) return 0;
        }
    }
}

/* Replaces path with text (readable by dnsmasq once it is "nobody"). */
static int write_file(const char *path, const char *text, const char **why) {
    char tmp[640];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return fail(why, "%s: %s", tmp, strerror(errno));
    fchmod(fileno(f), 0644);
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) < 0) {
        unlink(tmp);
        return fail(why, "%s: %s", path, strerror(errno));
    }
    return 0;
}

/* The whole file into b (a missing file is empty). */
static int read_file(const char *path, struct sbuf *b, const char **why) {
    FILE *f = fopen(path, "r");
    if (!f) return errno == ENOENT ? 0 : fail(why, "%s: %s", path, strerror(errno));
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        sbuf_add(b, buf, k);
    fclose(f);
    return 0;
}

/* One lock for every network of a state directory: two compute threads or
 * processes never edit a hosts file or a layout at once. */
static int lock_state(const char *state_dir, const char **why) {
    char path[512];
    snprintf(path, sizeof path, "%s/dhcp", state_dir);
    if (mkdirs(path, why) < 0) return -1;
    snprintf(path, sizeof path, "%s/dhcp/.lock", state_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return fail(why, "%s: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR) {
            close(fd);
            return fail(why, "flock %s: %s", path, strerror(errno));
        }
    return fd;
}
static void unlock_state(int fd) {
    if (fd >= 0) close(fd);
}

/* ---- addresses ---- */

struct subnet {
    struct in_addr net, mask;
    int prefix;
};

static int parse_ip(const char *s, struct in_addr *a) {
    return s && inet_pton(AF_INET, s, a) == 1 ? 0 : -1;
}

static int parse_cidr(const char *s, struct subnet *sn) {
    char ip[INET_ADDRSTRLEN];
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || (size_t)(slash - s) >= sizeof ip) return -1;
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = 0;
    char *end;
    long p = strtol(slash + 1, &end, 10);
    if (*end || p < 8 || p > 30 || parse_ip(ip, &sn->net) < 0) return -1;
    sn->prefix = (int)p;
    sn->mask.s_addr = htonl(0xffffffffu << (32 - p));
    sn->net.s_addr &= sn->mask.s_addr;
    return 0;
}

/* An address of the subnet that a host may have (not the network's own
 * address nor its broadcast). */
static int host_of(const struct subnet *sn, const char *s, struct in_addr *a) {
    if (parse_ip(s, a) < 0 || (a->s_addr & sn->mask.s_addr) != sn->net.s_addr) return -1;
    uint32_t host = ntohl(a->s_addr) & ~ntohl(sn->mask.s_addr);
    return host == 0 || host == ~ntohl(sn->mask.s_addr) ? -1 : 0;
}

static int given(const char *s) {
    return s && *s;
}

/* ---- dnsmasq ---- */

/* The pid of the daemon whose pid file is `pid_file`, when it runs and
 * its command line has the argument `want` naming that pid file (a reused
 * pid is not ours); 0 otherwise. Its command line into cmdline when given. */
static pid_t daemon_pid(const char *pid_file, const char *want, struct sbuf *cmdline) {
    struct sbuf b = {0};
    pid_t pid = 0;
    if (read_file(pid_file, &b, NULL) == 0 && b.len) pid = (pid_t)atol(b.s);
    sbuf_free(&b);
    if (pid <= 0) return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    if (read_file(path, &b, NULL) < 0 || !b.len) {
        sbuf_free(&b);
        return 0;
    }
    int ours = 0;
    for (size_t i = 0; i < b.len; i += strlen(b.s + i) + 1)
        if (!strcmp(b.s + i, want)) ours = 1;
    if (ours && cmdline) {
        sbuf_add(cmdline, b.s, b.len);
    }
    sbuf_free(&b);
    return ours ? pid : 0;
}

static pid_t dnsmasq_pid(const struct names *m, struct sbuf *cmdline) {
    char want[640];
    snprintf(want, sizeof want, "--pid-file=%s", m->pid);
    return daemon_pid(m->pid, want, cmdline);
}

/* The metadata proxy's pid: its command line names its pid file. */
static pid_t proxy_pid(const struct names *m, struct sbuf *cmdline) {
    return daemon_pid(m->md_pid, m->md_pid, cmdline);
}

/* Signals a daemon of ours to stop and waits up to 3 s for it (then
 * SIGKILL). */
static void daemon_stop(pid_t pid) {
    kill(pid, SIGTERM);
    for (int i = 0; i < 60 && kill(pid, 0) == 0; i++) {
        waitpid(pid, NULL, WNOHANG); /* in case it is our own child */
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    if (kill(pid, 0) == 0) kill(pid, SIGKILL);
}

#define DNSMASQ_ARGS 24
struct dnsmasq_argv {
    const char *v[DNSMASQ_ARGS];
    char range[128], iface[64], hosts[640], opts[640], leases[640], pid[640], log[640];
};

static void dnsmasq_argv(const struct names *m, const struct subnet *sn, struct dnsmasq_argv *a) {
    char net[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sn->net, net, sizeof net);
    inet_ntop(AF_INET, &sn->mask, mask, sizeof mask);
    /* static: only the hosts file's MACs get an address */
    snprintf(a->range, sizeof a->range, "--dhcp-range=%s,static,%s,%s", net, mask, LEASE_TIME);
    snprintf(a->iface, sizeof a->iface, "--interface=%s", m->nsdev);
    snprintf(a->hosts, sizeof a->hosts, "--dhcp-hostsfile=%s", m->hosts);
    snprintf(a->opts, sizeof a->opts, "--dhcp-optsfile=%s", m->opts);
    snprintf(a->leases, sizeof a->leases, "--dhcp-leasefile=%s", m->leases);
    snprintf(a->pid, sizeof a->pid, "--pid-file=%s", m->pid);
    snprintf(a->log, sizeof a->log, "--log-facility=%s", m->log);
    const char *v[] = {"dnsmasq",
                       "--conf-file=/dev/null",
                       "--no-hosts",
                       "--no-resolv",
                       "--port=0", /* DHCP only, no DNS */
                       "--bind-interfaces",
                       a->iface,
                       "--except-interface=lo",
                       a->range,
                       "--dhcp-authoritative",
                       a->hosts,
                       a->opts,
                       a->leases,
                       a->pid,
                       a->log,
                       NULL};
    memcpy(a->v, v, sizeof v);
}

/* The options file: what dnsmasq offers besides the address (reread on
 * SIGHUP). Classless routes (121, and 249 for Windows) replace the router
 * option on clients that take them, so they carry the default route too. */
static void dnsmasq_opts(const struct hostnet_net *n, struct sbuf *o) {
    const char *gw = given(n->gateway) ? n->gateway : NULL;
    if (gw)
        sbuf_addf(o, "option:router,%s\n", gw);
    else
        sbuf_addf(o, "option:router\n"); /* none: dnsmasq would offer itself */
    for (int code = 121; code; code = code == 121 ? 249 : 0) {
        sbuf_addf(o, "%d,%s/32,%s", code, METADATA_IP, n->dhcp_ip);
        if (gw) sbuf_addf(o, ",0.0.0.0/0,%s", gw);
        sbuf_addf(o, "\n");
    }
    if (n->mtu > 0) sbuf_addf(o, "option:mtu,%d\n", n->mtu);
    if (given(n->dns1) || given(n->dns2))
        sbuf_addf(o, "option:dns-server%s%s%s%s\n", given(n->dns1) ? "," : "",
                  given(n->dns1) ? n->dns1 : "", given(n->dns2) ? "," : "",
                  given(n->dns2) ? n->dns2 : "");
}

/* Starts dnsmasq unless the one running has the same command line, which
 * then rereads its hosts and options files. */
static int dnsmasq_ensure(const struct names *m, const struct subnet *sn, const char **why) {
    struct dnsmasq_argv a = {0};
    dnsmasq_argv(m, sn, &a);
    struct sbuf want = {0}, have = {0};
    for (int i = 0; a.v[i]; i++)
        sbuf_add(&want, a.v[i], strlen(a.v[i]) + 1);
    pid_t pid = dnsmasq_pid(m, &have);
    int same = pid && have.len == want.len && !memcmp(have.s, want.s, want.len);
    sbuf_free(&want);
    sbuf_free(&have);
    if (same) {
        kill(pid, SIGHUP);
        return 0;
    }
    if (pid) {
        log_info("hostnet: restarting dnsmasq %d of %s (its settings changed)", (int)pid, m->netns);
        daemon_stop(pid);
    }
    /* dnsmasq's parent exits once the daemon runs (or with its error) */
    if (run(m->netns, a.v, NULL, m->err, why) != 0) {
        struct sbuf e = {0};
        read_file(m->err, &e, NULL);
        while (e.len && isspace((unsigned char)e.s[e.len - 1]))
            e.s[--e.len] = 0;
        if (e.len) fail(why, "dnsmasq in %s: %s", m->netns, e.s);
        sbuf_free(&e);
        return -1;
    }
    unlink(m->err);
    log_info("hostnet: dnsmasq %d serves %s", (int)dnsmasq_pid(m, NULL), m->netns);
    return 0;
}

/* Starts the metadata proxy (argv: n->metadata_proxy, then its ports file
 * and pid file) in the namespace unless the one running has the same
 * command line; it reads the ports file on each request. */
static int proxy_ensure(const struct names *m, const char *const *prefix, const char **why) {
    const char *v[24];
    size_t k = 0;
    for (; prefix[k] && k < 18; k++)
        v[k] = prefix[k];
    const char *tail[] = {"--ports", m->md_ports, "--pid-file", m->md_pid, NULL};
    for (size_t i = 0; i < 5; i++)
        v[k++] = tail[i];
    struct sbuf want = {0}, have = {0};
    for (int i = 0; v[i]; i++)
        sbuf_add(&want, v[i], strlen(v[i]) + 1);
    pid_t pid = proxy_pid(m, &have);
    int same = pid && have.len == want.len && !memcmp(have.s, want.s, want.len);
    sbuf_free(&want);
    sbuf_free(&have);
    if (same) return 0;
    if (pid) daemon_stop(pid);
    if (run(m->netns, v, NULL, m->md_log, why) != 0) {
        fail(why, "the metadata proxy of %s did not start (see %s)", m->netns, m->md_log);
        return -1;
    }
    log_info("hostnet: metadata proxy %d serves %s", (int)proxy_pid(m, NULL), m->netns);
    return 0;
}

/* ---- the layout ---- */

/* The namespace's IPv4 addresses on its device become exactly want[]. */
static int ns_addresses(const struct names *m, const char *const want[], int n_want,
                        const char **why) {
    struct sbuf out = {0};
    const char *show[] = {"ip", "-4", "-o", "addr", "show", "dev", m->nsdev, NULL};
    if (run(m->netns, show, &out, NULL, why) != 0) {
        sbuf_free(&out);
        return -1;
    }
    int have[8] = {0};
    int rc = 0;
    char *save = NULL;
    for (char *tok = out.s ? strtok_r(out.s, " \t\n", &save) : NULL; tok && !rc;
         tok = strtok_r(NULL, " \t\n", &save)) {
        if (strcmp(tok, "inet") || !(tok = strtok_r(NULL, " \t\n", &save))) continue;
        int keep = 0;
        for (int i = 0; i < n_want; i++)
            if (!strcmp(tok, want[i])) keep = have[i] = 1;
        if (keep) continue;
        const char *del[] = {"ip", "addr", "del", tok, "dev", m->nsdev, NULL};
        rc = must(m->netns, del, why);
    }
    sbuf_free(&out);
    for (int i = 0; i < n_want && !rc; i++) {
        if (have[i]) continue;
        const char *add[] = {"ip", "addr", "add", want[i], "dev", m->nsdev, NULL};
        rc = must(m->netns, add, why);
    }
    return rc;
}

static int layout(const struct hostnet_net *n, const struct names *m, const struct subnet *sn,
                  const char **why) {
    char mtu[16];
    snprintf(mtu, sizeof mtu, "%d", n->mtu > 0 ? n->mtu : 1500);
    if (!link_exists_here(m->bridge)) {
        const char *add[] = {"ip", "link", "add", m->bridge, "type", "bridge", NULL};
        if (must(NULL, add, why) < 0) return -1;
        log_info("hostnet: bridge %s created", m->bridge);
    }
    ipv6_off(m->bridge); /* the host keeps no address on a guest network */
    char path[128];
    snprintf(path, sizeof path, "/run/netns/%s", m->netns);
    if (access(path, F_OK) < 0) {
        const char *add[] = {"ip", "netns", "add", m->netns, NULL};
        if (must(NULL, add, why) < 0) return -1;
    }
    if (!link_exists_here(m->tap)) {
        /* a lone ns- end left in the namespace would block the pair */
        const char *del[] = {"ip", "link", "del", m->nsdev, NULL};
        run(m->netns, del, NULL, NULL, why);
        const char *add[] = {"ip",   "link", "add",    m->tap,  "type",   "veth",
                             "peer", "name", m->nsdev, "netns", m->netns, NULL};
        if (must(NULL, add, why) < 0) return -1;
    }
    ipv6_off(m->tap);
    const char *tap_up[] = {"ip",      "link", "set", m->tap, "master",
                            m->bridge, "mtu",  mtu,   "up",   NULL};
    const char *br_up[] = {"ip", "link", "set", m->bridge, "mtu", mtu, "up", NULL};
    const char *lo_up[] = {"ip", "link", "set", "lo", "up", NULL};
    const char *ns_up[] = {"ip", "link", "set", m->nsdev, "mtu", mtu, "up", NULL};
    if (must(NULL, tap_up, why) < 0 || must(NULL, br_up, why) < 0 ||
        must(m->netns, lo_up, why) < 0 || must(m->netns, ns_up, why) < 0)
        return -1;
    char dhcp[64];
    snprintf(dhcp, sizeof dhcp, "%s/%d", n->dhcp_ip, sn->prefix);
    const char *want[] = {dhcp, METADATA_IP "/32"};
    return ns_addresses(m, want, 2, why);
}

int hostnet_net_ensure(const char *state_dir, const struct hostnet_net *n, const char **why) {
    struct names m;
    struct subnet sn;
    struct in_addr a;
    if (!n || names_of(state_dir, n->id, &m, why) < 0) return n ? -1 : fail(why, "no network");
    if (parse_cidr(n->cidr, &sn) < 0)
        return fail(why, "network %s: cidr %s is not an IPv4 subnet from /8 to /30", n->id,
                    n->cidr ? n->cidr : "(none)");
    if (host_of(&sn, n->dhcp_ip, &a) < 0)
        return fail(why, "network %s: DHCP address %s is not a host of %s", n->id,
                    n->dhcp_ip ? n->dhcp_ip : "(none)", n->cidr);
    if (given(n->gateway) && host_of(&sn, n->gateway, &a) < 0)
        return fail(why, "network %s: gateway %s is not a host of %s", n->id, n->gateway, n->cidr);
    if ((given(n->dns1) && parse_ip(n->dns1, &a) < 0) ||
        (given(n->dns2) && parse_ip(n->dns2, &a) < 0))
        return fail(why, "network %s: a DNS server is not an IPv4 address", n->id);
    if (n->mtu != 0 && (n->mtu < 576 || n->mtu > 65535))
        return fail(why, "network %s: MTU %d out of range", n->id, n->mtu);

    int lock = lock_state(state_dir, why);
    if (lock < 0) return -1;
    struct sbuf opts = {0}, hosts = {0};
    dnsmasq_opts(n, &opts);
    int rc = mkdirs(m.dir, why);
    if (!rc) rc = layout(n, &m, &sn, why);
    if (!rc) rc = read_file(m.hosts, &hosts, why);
    if (!rc) rc = write_file(m.hosts, hosts.s ? hosts.s : "", why); /* kept: it holds the ports */
    if (!rc) rc = write_file(m.opts, opts.s, why);
    if (!rc) rc = dnsmasq_ensure(&m, &sn, why);
    if (!rc && n->metadata_proxy) {
        struct sbuf ports = {0};
        rc = read_file(m.md_ports, &ports, why);
        if (!rc) rc = write_file(m.md_ports, ports.s ? ports.s : "", why); /* kept too */
        if (!rc) rc = proxy_ensure(&m, n->metadata_proxy, why);
        sbuf_free(&ports);
    }
    sbuf_free(&opts);
    sbuf_free(&hosts);
    unlock_state(lock);
    return rc;
}

/* ---- ports ---- */

static int valid_mac(const char *s) {
    if (!s || strlen(s) != 17) return 0;
    for (int i = 0; i < 17; i++)
        if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i])) return 0;
    return 1;
}

/* The hosts file without the lines of mac, nor (when ip is given) of ip:
 * "MAC,IP[,name]" each. The IP of mac's line, if any, into old_ip. */
static void hosts_without(const char *text, const char *mac, const char *ip, struct sbuf *out,
                          char old_ip[INET_ADDRSTRLEN]) {
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *c1 = memchr(line, ',', len);
        const char *c2 = c1 ? memchr(c1 + 1, ',', len - (size_t)(c1 + 1 - line)) : NULL;
        size_t iplen = c1 ? (c2 ? (size_t)(c2 - c1 - 1) : len - (size_t)(c1 + 1 - line)) : 0;
        int same_mac =
            c1 && (size_t)(c1 - line) == strlen(mac) && !strncasecmp(line, mac, strlen(mac));
        int same_ip = ip && c1 && iplen == strlen(ip) && !strncmp(c1 + 1, ip, iplen);
        if (same_mac && old_ip && iplen < INET_ADDRSTRLEN) {
            memcpy(old_ip, c1 + 1, iplen);
            old_ip[iplen] = 0;
        }
        if (!same_mac && !same_ip && len) {
            sbuf_add(out, line, len);
            sbuf_add(out, "\n", 1);
        }
        line = end ? end + 1 : NULL;
    }
    if (!out->s) sbuf_add(out, "", 0);
}

/* Rewrites the hosts file without mac (and ip), plus `add` when given, and
 * has dnsmasq reread it. */
static int hosts_edit(const struct names *m, const char *mac, const char *ip, const char *add,
                      char old_ip[INET_ADDRSTRLEN], const char **why) {
    struct stat st;
    if (stat(m->dir, &st) < 0) return fail(why, "network of %s not set up on this host", m->dir);
    struct sbuf text = {0}, out = {0};
    int rc = read_file(m->hosts, &text, why);
    if (!rc) {
        hosts_without(text.s, mac, ip, &out, old_ip);
        if (add) sbuf_addf(&out, "%s\n", add);
        rc = write_file(m->hosts, out.s, why);
    }
    sbuf_free(&text);
    sbuf_free(&out);
    pid_t pid = rc ? 0 : dnsmasq_pid(m, NULL);
    if (pid) kill(pid, SIGHUP);
    return rc;
}

/* The metadata proxy's ports file without the line of ip, plus
 * "ip owner" when owner is given. */
static int md_ports_edit(const struct names *m, const char *ip, const char *owner,
                         const char **why) {
    struct sbuf text = {0}, out = {0};
    if (read_file(m->md_ports, &text, NULL) < 0 && !owner) return 0; /* no proxy here */
    size_t iplen = strlen(ip);
    for (const char *line = text.s; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len && !(len > iplen && !strncmp(line, ip, iplen) && line[iplen] == ' ')) {
            sbuf_add(&out, line, len);
            sbuf_add(&out, "\n", 1);
        }
        line = end ? end + 1 : NULL;
    }
    if (owner) sbuf_addf(&out, "%s %s\n", ip, owner);
    int rc = write_file(m->md_ports, out.s ? out.s : "", why);
    sbuf_free(&text);
    sbuf_free(&out);
    return rc;
}

/* The length of a DNS name's first label (what a DHCP client is offered),
 * 0 when the name is not letters, digits, '-' and '.'. */
static size_t first_label(const char *name) {
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.";
    size_t label = strcspn(name, ".");
    return strspn(name, ok) == strlen(name) && label > 0 && label <= 63 ? label : 0;
}

int hostnet_port_add(const char *state_dir, const char *network_id, const char *mac, const char *ip,
                     const char *hostname, const char *owner, const char **why) {
    struct names m;
    struct in_addr a;
    if (names_of(state_dir, network_id, &m, why) < 0) return -1;
    if (!valid_mac(mac))
        return fail(why, "MAC address %s is not aa:bb:cc:dd:ee:ff", mac ? mac : "(none)");
    if (parse_ip(ip, &a) < 0)
        return fail(why, "fixed IP %s is not an IPv4 address", ip ? ip : "(none)");
    size_t label = 0;
    if (given(hostname) && !(label = first_label(hostname)))
        return fail(why, "hostname %s is not a DNS name", hostname);
    if (owner && (strchr(owner, '\n') || strlen(owner) > 300))
        return fail(why, "owner %s is not one short line", owner);
    char line[160];
    snprintf(line, sizeof line, "%s,%s%s%.*s", mac, ip, label ? "," : "", (int)label,
             label ? hostname : "");
    int lock = lock_state(state_dir, why);
    if (lock < 0) return -1;
    int rc = hosts_edit(&m, mac, ip, line, NULL, why);
    if (!rc && owner) rc = md_ports_edit(&m, ip, owner, why);
    unlock_state(lock);
    return rc;
}

int hostnet_port_remove(const char *state_dir, const char *network_id, const char *mac,
                        const char **why) {
    struct names m;
    if (names_of(state_dir, network_id, &m, why) < 0) return -1;
    if (!valid_mac(mac))
        return fail(why, "MAC address %s is not aa:bb:cc:dd:ee:ff", mac ? mac : "(none)");
    struct stat st;
    if (stat(m.dir, &st) < 0) return 0; /* no network here: no lease either */
    int lock = lock_state(state_dir, why);
    if (lock < 0) return -1;
    char old_ip[INET_ADDRSTRLEN] = "";
    int rc = hosts_edit(&m, mac, NULL, NULL, old_ip, why);
    if (!rc && *old_ip) rc = md_ports_edit(&m, old_ip, NULL, why);
    unlock_state(lock);
    if (rc == 0 && *old_ip && dnsmasq_pid(&m, NULL)) {
        /* the lease would keep the address from its next holder until it
         * expires; dhcp_release (dnsmasq-utils) tells dnsmasq it is free */
        const char *rel[] = {"dhcp_release", m.nsdev, old_ip, mac, NULL};
        const char *ignored;
        if (run(m.netns, rel, NULL, NULL, &ignored) != 0)
            log_warn("hostnet: lease of %s not released: %s", mac, ignored);
    }
    return rc;
}

int hostnet_port_count(const char *state_dir, const char *network_id) {
    struct names m;
    struct sbuf text = {0};
    if (names_of(state_dir, network_id, &m, NULL) < 0 || read_file(m.hosts, &text, NULL) < 0)
        return 0;
    int n = 0;
    for (size_t i = 0; i < text.len; i++)
        n += text.s[i] == '\n';
    sbuf_free(&text);
    return n;
}

/* ---- teardown ---- */

int hostnet_net_teardown(const char *state_dir, const char *network_id, const char **why) {
    struct names m;
    if (names_of(state_dir, network_id, &m, why) < 0) return -1;
    int lock = lock_state(state_dir, why);
    if (lock < 0) return -1;
    int rc = 0;
    pid_t pid = dnsmasq_pid(&m, NULL);
    if (pid) daemon_stop(pid);
    if ((pid = proxy_pid(&m, NULL))) daemon_stop(pid);
    /* the veth pair first: deleting the namespace would destroy its end
     * later, in the kernel's own time, racing with our delete of the tap */
    rc |= link_del(m.tap, why);
    char path[128];
    snprintf(path, sizeof path, "/run/netns/%s", m.netns);
    if (access(path, F_OK) == 0) {
        const char *del[] = {"ip", "netns", "del", m.netns, NULL};
        rc |= must(NULL, del, why);
    }
    rc |= link_del(m.bridge, why);
    const char *files[] = {m.hosts, m.opts,     m.leases, m.pid,   m.log,
                           m.err,   m.md_ports, m.md_pid, m.md_log};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        unlink(files[i]);
    char tmp[640];
    snprintf(tmp, sizeof tmp, "%s.tmp", m.hosts);
    unlink(tmp);
    snprintf(tmp, sizeof tmp, "%s.tmp", m.opts);
    unlink(tmp);
    if (rmdir(m.dir) < 0 && errno != ENOENT)
        rc |= fail(why, "rmdir %s: %s", m.dir, strerror(errno));
    unlock_state(lock);
    if (!rc) log_info("hostnet: network %s torn down", network_id);
    return rc ? -1 : 0;
}
