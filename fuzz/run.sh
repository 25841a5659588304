#!/usr/bin/env bash
# Fuzzes Parley's parsers of untrusted bytes with AFL++ through SharpFuzz (docs/reliability.md).
#
#   fuzz/run.sh TARGET SECONDS     one target for SECONDS of fuzzing (after build and instrumentation)
#   fuzz/run.sh all SECONDS        every target, SECONDS each
#   fuzz/run.sh list               the targets
#
# Needs afl-fuzz (Debian: apt-get install afl++) and the SharpFuzz instrumenter, pinned in
# fuzz/.config/dotnet-tools.json (`dotnet tool restore` here installs it). Every crashing input is
# copied to tests/corpus/TARGET/ (named by its SHA-256), where Parley.Faults' corpus test replays
# it; fix the bug, keep the file. Prints one line per target with executions, crashes and hangs,
# and exits 1 if any target crashed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="${PARLEY_FUZZ_OUT:-$here/out}"
targets=(ratchet-message session-state prekey-bundle certificate pake invite-code api)

usage() { echo "usage: fuzz/run.sh TARGET|all SECONDS   (targets: ${targets[*]})" >&2; exit 2; }
[ $# -ge 1 ] || usage
if [ "$1" = "list" ]; then printf '%s\n' "${targets[@]}"; exit 0; fi
[ $# -eq 2 ] || usage
selected=("$1"); [ "$1" = "all" ] && selected=("${targets[@]}")
seconds=$2
[[ "$seconds" =~ ^[0-9]+$ ]] || usage
for t in "${selected[@]}"; do [[ " ${targets[*]} " == *" $t "* ]] || usage; done

command -v afl-fuzz >/dev/null 2>&1 || { echo "fuzz: afl-fuzz not found (apt-get install afl++)" >&2; exit 3; }
(cd "$here" && dotnet tool restore >/dev/null) || { echo "fuzz: cannot restore the sharpfuzz tool" >&2; exit 3; }

# --- build once, then instrument the assemblies that parse untrusted bytes ----------------------
mkdir -p "$out"
bin="$out/bin"
rm -rf "$bin"
dotnet publish "$here/Parley.Fuzz/Parley.Fuzz.csproj" -c Release -o "$bin" >"$out/publish.log" 2>&1 \
    || { cat "$out/publish.log"; echo "fuzz: build failed" >&2; exit 3; }
# Seeds first: instrumented code only runs under afl-fuzz (it writes to afl's shared memory).
for target in "${selected[@]}"; do
    rm -rf "$out/$target"
    mkdir -p "$out/$target/seeds"
    dotnet "$bin/Parley.Fuzz.dll" "$target" --seeds "$out/$target/seeds" || { echo "fuzz: cannot write seeds for $target" >&2; exit 3; }
done
for dll in Parley.Protocol.dll Parley.Api.dll Google.Protobuf.dll BouncyCastle.Cryptography.dll; do
    (cd "$here" && dotnet tool run sharpfuzz "$bin/$dll") >/dev/null || { echo "fuzz: cannot instrument $dll" >&2; exit 3; }
done

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_FORKSRV_INIT_TMOUT=120000 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

total_crashes=0
for target in "${selected[@]}"; do
    work="$out/$target"
    # Earlier findings start the run too: they must not crash any more.
    if [ -d "$root/tests/corpus/$target" ]; then cp "$root/tests/corpus/$target"/* "$work/seeds/" 2>/dev/null; fi

    afl-fuzz -i "$work/seeds" -o "$work/findings" -t 10000 -m none -V "$seconds" -- dotnet "$bin/Parley.Fuzz.dll" "$target" >"$work/afl.log" 2>&1
    status=$?
    stats="$work/findings/default/fuzzer_stats"
    if [ ! -f "$stats" ]; then
        tail -n 30 "$work/afl.log"
        echo "fuzz $target: afl-fuzz did not start (exit $status)"
        total_crashes=$((total_crashes + 1))
        continue
    fi

    execs=$(awk -F' *: *' '$1=="execs_done"{print $2}' "$stats")
    hangs=$(find "$work/findings/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
    crashes=0
    for crash in "$work/findings/default/crashes"/id:*; do
        [ -f "$crash" ] || continue
        crashes=$((crashes + 1))
        mkdir -p "$root/tests/corpus/$target"
        cp "$crash" "$root/tests/corpus/$target/crash-$(sha256sum "$crash" | cut -c1-16)"
    done
    total_crashes=$((total_crashes + crashes))
    echo "fuzz $target: ${execs:-0} executions in ${seconds}s, $crashes crashes, $hangs hangs"
done

if [ "$total_crashes" -gt 0 ]; then
    echo "fuzz: $total_crashes crashing inputs, copied to tests/corpus/ (replay: dotnet $bin/Parley.Fuzz.dll TARGET --replay tests/corpus/TARGET)"
    exit 1
fi
