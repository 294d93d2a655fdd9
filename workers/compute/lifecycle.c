/* lifecycle.c — cnova-compute's answers that the API waits for: the guest's
 * console output (os-getConsoleOutput), tailed and cleaned as Nova's
 * compute manager and API do. The lifecycle actions themselves (shelve,
 * rescue, snapshots, ...) run through actions.c's table. */
#include <stdlib.h>
#include <string.h>

#include "cnova.h"
#include "compute_actions.h"

const char *compute_tail_lines(const char *s, long long length) {
    if (length == 0) return s + strlen(s);
    size_t lines = 1;
    for (const char *p = s; *p; p++)
        lines += *p == '\n';
    size_t skip = length > 0 ? (lines > (size_t)length ? lines - (size_t)length : 0)
                             : ((size_t)-length < lines ? (size_t)-length : lines);
    for (; skip && *s; s++)
        if (*s == '\n') skip--;
    return skip ? s + strlen(s) : s;
}

json_t *compute_console_output(json_t *args, const struct virt_driver *virt) {
    const char *uuid = json_string_value(json_object_get(args, "uuid"));
    if (!uuid) return rpc_failure("get_console_output needs uuid");
    char *log = NULL;
    const char *why = NULL;
    int rc = virt->console_output ? virt->console_output(uuid, &log, &why) : 1;
    if (rc < 0) return rpc_failure("%s", why ? why : "console output failed");
    if (rc > 0) return json_pack("{s:s}", "error", "ConsoleNotAvailable");
    json_t *len = json_object_get(args, "length");
    const char *from =
        json_is_integer(len) ? compute_tail_lines(log, json_integer_value(len)) : log;
    /* decoded as ASCII with replacement, control characters but tab and
     * newline removed (Nova's API filters them) */
    struct sbuf b = {0};
    sbuf_add(&b, "", 0);
    for (const unsigned char *p = (const unsigned char *)from; *p; p++) {
        if (*p >= 0x80)
            sbuf_add(&b, "\xef\xbf\xbd", 3);
        else if (*p >= 0x20 || *p == '\t' || *p == '\n')
            sbuf_add(&b, (const char *)p, 1);
    }
    free(log);
    json_t *res = json_pack("{s:s}", "output", b.s);
    sbuf_free(&b);
    return res;
}
