# json-flat.awk — flattens a JSON document into one "path<TAB>value" line per
# scalar, the path being the keys (and array indexes) joined by "/":
#   {"uuid": "u1", "public_keys": {"k": "ssh-ed25519 AAA x\n"}}
# gives "uuid<TAB>u1" and "public_keys/k<TAB>ssh-ed25519 AAA x". A string
# holding newlines gives one line per non-empty line of it (keys often end in
# "\n"). Enough JSON for metadata, in busybox awk (the guest has no python).
function ws() {
    while (pos <= n && index(" \t\r\n", substr(s, pos, 1))) pos++
}
function str(out, c, e, h) {
    out = ""; pos++
    while (pos <= n) {
        c = substr(s, pos, 1)
        if (c == "\"") { pos++; return out }
        if (c == "\\") {
            e = substr(s, pos + 1, 1); pos += 2
            if (e == "n") out = out "\n"
            else if (e == "t") out = out "\t"
            else if (e == "r" || e == "b" || e == "f") ;
            else if (e == "u") {
                h = tolower(substr(s, pos, 4)); pos += 4
                h = (index("0123456789abcdef", substr(h, 1, 1)) - 1) * 4096 + \
                    (index("0123456789abcdef", substr(h, 2, 1)) - 1) * 256 + \
                    (index("0123456789abcdef", substr(h, 3, 1)) - 1) * 16 + \
                    (index("0123456789abcdef", substr(h, 4, 1)) - 1)
                out = out (h >= 32 && h < 127 ? sprintf("%c", h) : "?")
            } else out = out e
            continue
        }
        out = out c; pos++
    }
    return out
}
function emit(path, v, parts, k, i) {
    k = split(v, parts, "\n")
    for (i = 1; i <= k; i++) if (parts[i] != "") print path "\t" parts[i]
}
function join(path, k) { return path == "" ? k : path "/" k }
function value(path, c, k, i, tok) {
    ws(); c = substr(s, pos, 1)
    if (c == "{") {
        pos++; ws()
        if (substr(s, pos, 1) == "}") { pos++; return }
        while (pos <= n) {
            ws(); k = str(); ws(); pos++   # the ':'
            value(join(path, k)); ws()
            c = substr(s, pos, 1); pos++
            if (c != ",") return
        }
    } else if (c == "[") {
        pos++; ws(); i = 0
        if (substr(s, pos, 1) == "]") { pos++; return }
        while (pos <= n) {
            value(join(path, i++)); ws()
            c = substr(s, pos, 1); pos++
            if (c != ",") return
        }
    } else if (c == "\"") {
        emit(path, str())
    } else {
        tok = ""
        while (pos <= n && !index(",}] \t\r\n", substr(s, pos, 1))) { tok = tok substr(s, pos, 1); pos++ }
        emit(path, tok)
    }
}
{ s = s $0 "\n" }
END { n = length(s); pos = 1; value("") }
