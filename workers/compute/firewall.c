/* firewall.c — see firewall.h. The script is built from data only after
 * each value has been checked to be what it claims, so no answer of the
 * conductor can write anything else into the host's ruleset. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnova.h"
#include "firewall.h"

/* s is non-empty, at most max characters, all of them in `set`. */
static bool only(const char *s, const char *set, size_t max) {
    return s && *s && strlen(s) <= max && strspn(s, set) == strlen(s);
}

static bool is_ipv4(const char *s) {
    return only(s, "0123456789.", 15);
}

static bool is_cidr4(const char *s) {
    return only(s, "0123456789./", 18) && strchr(s, '.');
}

static const char *str(const json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

/* The tap libvirt gives the port (domxml.c): "tap" + 11 characters of its id. */
static bool tap_of(const json_t *port, char tap[16]) {
    const char *id = str(port, "port_id");
    if (!only(id, "0123456789abcdef-", 36)) return false;
    snprintf(tap, 16, "tap%.11s", id);
    return true;
}

/* One ingress rule of a group as an nft rule, or nothing when it is not
 * one the guest networks can carry (IPv6, a protocol nova-network had no
 * rule for). */
static void rule_line(const json_t *rule, struct sbuf *out) {
    const char *proto = str(rule, "protocol"), *cidr = str(rule, "cidr");
    json_t *from = json_object_get(rule, "from_port"), *to = json_object_get(rule, "to_port");
    char src[48] = "";
    if (!is_cidr4(cidr)) return;
    if (strcmp(cidr, "0.0.0.0/0")) snprintf(src, sizeof src, "ip saddr %s ", cidr);
    if (!proto) { /* a rule from a group without a protocol: everything */
        sbuf_addf(out, "    %saccept\n", src);
        return;
    }
    long long lo = json_integer_value(from), hi = json_integer_value(to);
    bool ports = json_is_integer(from) && json_is_integer(to);
    if (!strcmp(proto, "tcp") || !strcmp(proto, "udp")) {
        if (!ports || lo < 1 || hi > 65535 || lo > hi) {
            sbuf_addf(out, "    %sip protocol %s accept\n", src, proto);
        } else if (lo == hi) {
            sbuf_addf(out, "    %s%s dport %lld accept\n", src, proto, lo);
        } else {
            sbuf_addf(out, "    %s%s dport %lld-%lld accept\n", src, proto, lo, hi);
        }
    } else if (!strcmp(proto, "icmp")) {
        /* nova-network's ICMP rule: from_port the type, to_port the code, -1 any */
        if (!ports || lo < 0 || lo > 255) {
            sbuf_addf(out, "    %sip protocol icmp accept\n", src);
        } else if (hi < 0 || hi > 255) {
            sbuf_addf(out, "    %sicmp type %lld accept\n", src, lo);
        } else {
            sbuf_addf(out, "    %sicmp type %lld icmp code %lld accept\n", src, lo, hi);
        }
    }
}

/* The two chains of one port: into the guest, out of it. */
static void port_chains(const json_t *port, const char *tap, bool stateful, struct sbuf *out) {
    const char *mac = str(port, "mac"), *ip = str(port, "ip"), *dhcp = str(port, "dhcp_ip");
    sbuf_addf(out, "  chain to-%s {\n", tap);
    if (stateful) sbuf_addf(out, "    ct state established,related accept\n");
    sbuf_addf(out, "    ether type arp accept\n");
    if (is_ipv4(dhcp))
        sbuf_addf(out, "    ip saddr { %s, 169.254.169.254 } accept\n", dhcp);
    else
        sbuf_addf(out, "    ip saddr 169.254.169.254 accept\n");
    if (!stateful)
        sbuf_addf(out, "    tcp flags & (syn | ack) != syn accept\n"
                       "    icmp type { echo-reply, destination-unreachable, time-exceeded,"
                       " parameter-problem } accept\n"
                       "    udp sport { 53, 67, 123 } accept\n");
    size_t i;
    json_t *rule;
    json_array_foreach(json_object_get(port, "rules"), i, rule) rule_line(rule, out);
    sbuf_addf(out, "    drop\n  }\n  chain from-%s {\n", tap);
    if (only(mac, "0123456789abcdefABCDEF:", 17))
        sbuf_addf(out, "    ether saddr != %s drop\n", mac);
    if (is_ipv4(ip))
        sbuf_addf(out,
                  "    arp saddr ip != %s arp saddr ip != 0.0.0.0 drop\n"
                  "    ip saddr 0.0.0.0 udp dport 67 accept\n"
                  "    ip saddr != %s drop\n",
                  ip, ip);
    sbuf_addf(out, "    accept\n  }\n");
}

void firewall_script(const char *table, bool stateful, const json_t *ports, struct sbuf *out) {
    /* made if missing, so that deleting it never fails; then all anew, in
     * one transaction: no packet ever sees half a ruleset */
    sbuf_addf(out, "table bridge %s\ndelete table bridge %s\ntable bridge %s {\n", table, table,
              table);
    struct sbuf in = {0}, outs = {0}, chains = {0};
    size_t i;
    json_t *port;
    char tap[16];
    json_array_foreach(ports, i, port) {
        if (!tap_of(port, tap)) continue;
        sbuf_addf(&in, "%s\"%s\" : jump to-%s", in.len ? ", " : "", tap, tap);
        sbuf_addf(&outs, "%s\"%s\" : jump from-%s", outs.len ? ", " : "", tap, tap);
        port_chains(port, tap, stateful, &chains);
    }
    sbuf_addf(out, "  chain forward {\n    type filter hook forward priority 0; policy accept;\n");
    if (in.len) sbuf_addf(out, "    oifname vmap { %s }\n    iifname vmap { %s }\n", in.s, outs.s);
    sbuf_addf(out, "  }\n%s}\n", chains.len ? chains.s : "");
    sbuf_free(&in);
    sbuf_free(&outs);
    sbuf_free(&chains);
}

/* Writes `text` to path and has nft load it (or only check it). */
static int nft_load(const char *path, const char *text, bool check, char *err, size_t errlen) {
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f)) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    const char *argv[] = {"nft", check ? "-c" : "-f", check ? "-f" : path, check ? path : NULL,
                          NULL};
    return run_argv(argv, 30, err, errlen);
}

int firewall_init(struct firewall *fw, const char *host, const char *state_dir, const char **why) {
    static char err[512];
    unsigned h = 2166136261u; /* FNV-1a: two stacks of one machine never share a table */
    for (const char *p = state_dir; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    char name[48];
    size_t n = 0;
    for (const char *p = host; *p && n < 40; p++)
        name[n++] =
            (strchr("-_", *p) || (*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'z'))
                ? *p
                : '_';
    name[n] = 0;
    snprintf(fw->table, sizeof fw->table, "cnova_%s_%08x", name, h);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/firewall", state_dir);
    if ((mkdir(state_dir, 0755) && errno != EEXIST) || (mkdir(dir, 0755) && errno != EEXIST)) {
        *why = "cannot make the firewall's folder";
        return -1;
    }
    snprintf(fw->path, sizeof fw->path, "%s/%s.nft", dir, fw->table);
    char probe[700], text[400];
    snprintf(probe, sizeof probe, "%s/probe.nft", dir);
    snprintf(text, sizeof text,
             "table bridge %s_probe {\n  chain c {\n    ct state established accept\n  }\n}\n",
             fw->table);
    fw->stateful = nft_load(probe, text, true, err, sizeof err) == 0;
    snprintf(text, sizeof text, "table bridge %s_probe {\n  chain c {\n    accept\n  }\n}\n",
             fw->table);
    int rc = fw->stateful ? 0 : nft_load(probe, text, true, err, sizeof err);
    unlink(probe);
    *why = err;
    return rc;
}

int firewall_apply(const struct firewall *fw, const json_t *ports, const char **why) {
    static char err[512];
    struct sbuf s = {0};
    firewall_script(fw->table, fw->stateful, ports, &s);
    int rc = nft_load(fw->path, s.s, false, err, sizeof err);
    sbuf_free(&s);
    *why = err;
    return rc;
}
