#!/usr/bin/env bash
# Cold-start benchmark of the `parley` CLI (docs/performance.md, "CLI cold start").
#
# For each build flavour it publishes src/Parley.Cli into a temporary folder, starts `parley serve`
# from that build on a free loopback port with a temporary data directory, registers alice and bob,
# and times whole processes with hyperfine:
#
#   version   parley --version
#   send      parley send bob hi          (as alice: Argon2id, TLS, authenticate, certificate + CRL check, send)
#   inbox     parley inbox                (as bob; before each run alice sends one message, untimed)
#   history   parley history bob          (as alice; offline: Argon2id + SQLite only)
#
# Flavours (FLAVOURS, space-separated, default "jit r2r aot"):
#   jit   dotnet publish -c Release -p:PublishAot=false -p:PublishReadyToRun=false   (framework-dependent, IL only)
#   r2r   dotnet publish -c Release -r linux-x64 --self-contained false -p:PublishAot=false -p:PublishReadyToRun=true
#   aot   dotnet publish -c Release -r linux-x64   (the project's default: Native AOT, warnings are errors)
#
# Environment: RUNS (default 20), WARMUP (default 3), FLAVOURS, KEEP=1 keeps the temporary folder,
# NICE=-10 (for example) runs the server and the timed processes at that niceness, which takes most
# of the noise of a busy shared machine out of the wall-clock figures (negative values need root).
# Output: a table per flavour, then one JSON line (the last line on stdout) keyed by flavour.
# Everything listens on and talks to 127.0.0.1 only.
set -euo pipefail

RUNS="${RUNS:-20}"
WARMUP="${WARMUP:-3}"
FLAVOURS="${FLAVOURS:-jit r2r aot}"
prio=()
[[ -n "${NICE:-}" ]] && prio=(nice -n "$NICE")
VERSION_GOAL_MS=150
SEND_GOAL_MS=400

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/parley-cold-start.XXXXXX")"
server_pid=""

stop_server() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}

cleanup() {
    stop_server
    if [[ "${KEEP:-0}" == 1 ]]; then
        echo "kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "== $*" >&2; }

as_root() {
    if [[ "$(id -u)" == 0 ]]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
    else return 1
    fi
}

ensure_tool() {
    local tool="$1"
    command -v "$tool" >/dev/null && return 0
    log "installing $tool with apt-get"
    if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool"; } >&2; then
        echo "cannot install $tool: run as root, with passwordless sudo, or install it yourself" >&2
        exit 1
    fi
}

ensure_tool hyperfine
ensure_tool jq

# A loopback port nobody listens on (nothing answers a connect to it).
free_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

publish() {
    local flavour="$1" out="$2"
    local args=(publish "$repo/src/Parley.Cli" -c Release -o "$out" -nologo)
    case "$flavour" in
        jit) args+=(-p:PublishAot=false -p:PublishReadyToRun=false) ;;
        r2r) args+=(-r linux-x64 --self-contained false -p:PublishAot=false -p:PublishReadyToRun=true) ;;
        aot) args+=(-r linux-x64 -p:PublishAot=true) ;;
        *) echo "unknown flavour $flavour" >&2; return 1 ;;
    esac
    # Own obj/bin folders per flavour, so a concurrent `dotnet build` of the tree is not disturbed.
    args+=(--artifacts-path "$work/artifacts-$flavour")
    dotnet "${args[@]}" >"$work/publish-$flavour.log" 2>&1
}

start_server() {
    local parley="$1" data="$2" port="$3" out="$4"
    "${prio[@]}" "$parley" serve --data "$data" --listen "https://127.0.0.1:$port" >"$out" 2>&1 &
    server_pid=$!
    for _ in $(seq 600); do
        if grep -q '^  CA ' "$out"; then
            return 0
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "server exited:" >&2; cat "$out" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "server did not start within 60 s:" >&2; cat "$out" >&2
    return 1
}

# hyperfine's JSON (seconds) -> "mean median stddev min max cpu" in ms; cpu = user + system, mean per run.
summary() {
    jq -r '.results[0] | [.mean, .median, .stddev, .min, .max, .user + .system] | map(. * 1000 * 10 | round / 10) | @tsv' "$1"
}

declare -A result_json
table=""

for flavour in $FLAVOURS; do
    log "$flavour: publishing"
    out="$work/parley-publish-$flavour"
    if ! publish "$flavour" "$out"; then
        reason="$(grep -m1 -E 'error [A-Z]+[0-9]+' "$work/publish-$flavour.log" | sed -E 's/^.*error ([A-Z]+[0-9]+):? ?//' | cut -c1-160 || true)"
        log "$flavour: publish failed: ${reason:-see log}"
        result_json[$flavour]="$(jq -nc --arg r "publish failed: ${reason:-unknown}" '{publish: $r}')"
        continue
    fi
    parley="$out/parley"
    size_mb="$(du -sm "$out" | cut -f1)"

    data="$work/data-$flavour"
    profiles="$work/profiles-$flavour"
    mkdir -p "$profiles"
    port="$(free_port)"
    log "$flavour: parley serve on 127.0.0.1:$port"
    if ! start_server "$parley" "$data" "$port" "$work/serve-$flavour.log"; then
        result_json[$flavour]="$(jq -nc '{publish: "ok", run: "server did not start"}')"
        stop_server
        continue
    fi
    fingerprint="$(awk '$1 == "CA" { print $2; exit }' "$work/serve-$flavour.log")"
    server="https://127.0.0.1:$port"

    export PARLEY_PASSPHRASE="cold-start bench passphrase"
    unset PARLEY_PROFILE
    alice="$profiles/alice"
    bob="$profiles/bob"
    if ! { "$parley" register alice --profile "$alice" --server "$server" --ca-fingerprint "$fingerprint" \
        && "$parley" register bob --profile "$bob" --server "$server" --ca-fingerprint "$fingerprint" \
        && "$parley" send bob "first" --profile "$alice" \
        && "$parley" inbox --profile "$bob"; } >"$work/setup-$flavour.log" 2>&1; then
        log "$flavour: register/send smoke test failed:"
        tail -5 "$work/setup-$flavour.log" >&2
        result_json[$flavour]="$(jq -nc --arg r "$(tail -1 "$work/setup-$flavour.log" | cut -c1-160)" '{publish: "ok", run: ("smoke test failed: " + $r)}')"
        stop_server
        continue
    fi

    hf=("${prio[@]}" hyperfine --warmup "$WARMUP" --runs "$RUNS" --shell=none --style basic)
    log "$flavour: timing"
    "${hf[@]}" --export-json "$work/version-$flavour.json" -n "version" "$parley --version" >&2
    "${hf[@]}" --export-json "$work/send-$flavour.json" -n "send" "$parley send bob hi --profile $alice" >&2
    "${hf[@]}" --export-json "$work/inbox-$flavour.json" -n "inbox" \
        --prepare "$parley send bob queued --profile $alice" "$parley inbox --profile $bob" >&2
    "${hf[@]}" --export-json "$work/history-$flavour.json" -n "history" "$parley history bob --profile $alice" >&2
    stop_server

    for what in version send inbox history; do
        read -r mean median stddev min max cpu < <(summary "$work/$what-$flavour.json")
        table+="$(printf '%-5s %-8s %9s %9s %9s %9s %9s %9s' "$flavour" "$what" "$mean" "$median" "$stddev" "$min" "$max" "$cpu")"$'\n'
    done

    result_json[$flavour]="$(jq -nc \
        --argjson size "$size_mb" --argjson vg "$VERSION_GOAL_MS" --argjson sg "$SEND_GOAL_MS" \
        --slurpfile v "$work/version-$flavour.json" --slurpfile s "$work/send-$flavour.json" \
        --slurpfile i "$work/inbox-$flavour.json" --slurpfile h "$work/history-$flavour.json" '
        def ms(x): x * 1000 * 10 | round / 10;
        def cpu(r): ms(r.user + r.system);
        {
          publish: "ok",
          publish_mb: $size,
          version_ms_mean: ms($v[0].results[0].mean),
          version_ms_p50: ms($v[0].results[0].median),
          send_ms_mean: ms($s[0].results[0].mean),
          send_ms_p50: ms($s[0].results[0].median),
          inbox_ms_mean: ms($i[0].results[0].mean),
          inbox_ms_p50: ms($i[0].results[0].median),
          history_ms_mean: ms($h[0].results[0].mean),
          history_ms_p50: ms($h[0].results[0].median),
          version_cpu_ms_mean: cpu($v[0].results[0]),
          send_cpu_ms_mean: cpu($s[0].results[0]),
          inbox_cpu_ms_mean: cpu($i[0].results[0]),
          history_cpu_ms_mean: cpu($h[0].results[0]),
          version_goal_met: ($v[0].results[0].mean * 1000 < $vg),
          send_goal_met: ($s[0].results[0].mean * 1000 < $sg)
        }')"
done

echo
echo "parley cold start, ms over $RUNS runs after $WARMUP warm-up runs (goals on the mean: --version < $VERSION_GOAL_MS, send < $SEND_GOAL_MS)"
printf '%-5s %-8s %9s %9s %9s %9s %9s %9s\n' flav command mean p50 stddev min max cpu
printf '%s' "$table"
for flavour in $FLAVOURS; do
    status="$(jq -r '.publish + (if .run then ", " + .run else "" end)' <<<"${result_json[$flavour]}")"
    [[ "$status" == ok ]] || echo "$flavour: $status"
done

line="{}"
for flavour in $FLAVOURS; do
    line="$(jq -c --arg f "$flavour" --argjson r "${result_json[$flavour]}" '. + {($f): $r}' <<<"$line")"
done
jq -c --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg nproc "$(nproc)" \
    --arg nice "${NICE:-0}" --argjson runs "$RUNS" \
    '. + {goals_ms: {version: 150, send: 400}, runs: $runs, nice: ($nice | tonumber), load_avg: $load, cpus: ($nproc | tonumber)}' <<<"$line"
