# scripts/lib.sh — process and port helpers shared by stack.sh and
# dashboard.sh (sourced; the caller defines say and warn).

# pid_runs PID: the process exists and is not a zombie (an exited daemon
# stays a zombie until init gets round to reaping it) nor on its way out:
# its stat unreadable or empty (seen under gVisor right after a kill -9,
# when a start that took it for running left the component down).
pid_runs() {
    kill -0 "$1" 2>/dev/null || return 1
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    case ${stat%% *} in Z | X | '') return 1 ;; esac
}

# alive PIDFILE [NAME]: the process in PIDFILE runs (and its command line
# mentions NAME, so that a recycled PID is not mistaken for ours).
alive() {
    local f=$1 name=${2:-} pid
    [ -s "$f" ] || return 1
    pid=$(head -n1 "$f" 2>/dev/null) || return 1
    case $pid in '' | *[!0-9]*) return 1 ;; esac
    pid_runs "$pid" || return 1
    if [ -n "$name" ] && [ -r "/proc/$pid/cmdline" ]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$name" || return 1
    fi
}

# stop_pid PIDFILE LABEL [NAME [SIGNAL]]: SIGNAL (TERM), wait up to 10 s,
# then KILL (the whole process group when the process leads one, which
# setsid made it do).
stop_pid() {
    local f=$1 label=$2 name=${3:-} sig=${4:-TERM} pid i
    if ! alive "$f" "$name"; then
        rm -f "$f"
        return 0
    fi
    pid=$(head -n1 "$f")
    kill -"$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        pid_runs "$pid" || break
        sleep 0.1
    done
    if pid_runs "$pid"; then
        warn "$label (pid $pid) still running after 10 s: KILL"
        if [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ]; then
            kill -KILL -- "-$pid" 2>/dev/null || true
        else
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$f"
    say "stopped $label"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# listened PORT: some process listens on PORT (any address)
listened() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
# ephemeral PORT: PORT is one the kernel hands out as the local end of
# outgoing connections (ip_local_port_range), so a client of the stack
# may hold it, or leave it in TIME-WAIT, when a server wants to bind it
ephemeral() {
    local lo hi
    read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || return 1
    [ "$1" -ge "$lo" ] && [ "$1" -le "$hi" ]
}
