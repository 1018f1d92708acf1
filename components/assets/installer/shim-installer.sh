#!/bin/sh
# shim-installer.sh - install containerd-shim-spin on an AKS node and register it with containerd.
#
# Runs under busybox sh from a privileged, hostPID DaemonSet init container with the node's / mounted
# at HOST_ROOT. Every command that acts on the host goes through `nsenter -t 1 -m --`.
#
# Usage: shim-installer.sh [install|uninstall|check]          (default: install)
#
# Environment (defaults in brackets):
#   HOST_ROOT          node's / as mounted in the container                  [/host]
#   SHIM_SRC           shim binary shipped in the image        [/assets/containerd-shim-spin-v2]
#   RUNTIME_HANDLER    containerd runtime name = RuntimeClass handler, a DNS label  [spin]
#   SHIM_DEST          absolute path of the shim on the node     [/usr/local/bin/containerd-shim-spin-v2]
#   RUNTIME_TYPE_MODE  path: runtime_type = "<SHIM_DEST>"; name: runtime_type = "io.containerd.spin.v2"
#                      (name mode needs SHIM_DEST on containerd's PATH)    [path]
#   RESTART_TIMEOUT    seconds to wait for containerd to answer after a restart              [60]
#
# install   First refuses (exit 4, nothing touched) a SHIM_SRC that is not a 64-bit little-endian
#           ELF binary for the node's CPU (`uname -m`: x86_64/amd64 or aarch64/arm64; the machine is
#           read from the ELF header). containerd pulls the node-installer image's platform from its
#           multi-arch index, but an image pinned by one platform's manifest digest carries that
#           platform's shim to every node, and a shim containerd cannot exec breaks every Wasm pod.
#           Copies the shim to $HOST_ROOT$SHIM_DEST when its sha256 differs (temp file + mv, so a
#           running shim keeps its old inode). Appends to $HOST_ROOT/etc/containerd/config.toml
#           the runtime tables between the lines
#             # BEGIN aks-wasm-migration shim <handler>
#             # END aks-wasm-migration shim <handler>
#           under the CRI plugin id found in the file's content (io.containerd.cri.v1.runtime when
#           present, else io.containerd.grpc.v1.cri; AKS's `version =` header is unreliable).
#           An outdated block is replaced in place; a correct one is left alone (nothing written).
#           A config without a final newline gets one before the block, and the BEGIN line then
#           ends in " (original had no final newline)" so uninstall can take it back.
#           Before the first write the config is copied to config.toml.pre-wasm-shim (never
#           overwritten). containerd is restarted only when the config changed: containerd execs
#           the shim binary afresh for every new sandbox, so a new binary alone needs no restart.
#           If the file already holds a table for the handler outside our markers (KWasm leftover,
#           hand edit), appending ours would make a duplicate table and containerd would not start:
#           the script exits 3 without touching anything.
# uninstall Removes exactly the marker block (restoring the pre-install bytes) and the binary;
#           restarts containerd only if the config changed. The backup is kept.
# check     Liveness probe, read-only, never calls nsenter: exit 0 when the config holds the
#           complete marker block and the binary exists, is executable, is built for the node's
#           CPU and, if SHIM_SRC exists, has its sha256.
#
# Exit codes: 0 success, 1 failure (check failed, missing file, containerd not back within
# RESTART_TIMEOUT), 2 bad arguments or environment, 3 foreign table for the handler (untouched),
# 4 SHIM_SRC not built for the node's CPU (untouched).
set -eu

HOST_ROOT=${HOST_ROOT:-/host}
SHIM_SRC=${SHIM_SRC:-/assets/containerd-shim-spin-v2}
RUNTIME_HANDLER=${RUNTIME_HANDLER:-spin}
SHIM_DEST=${SHIM_DEST:-/usr/local/bin/containerd-shim-spin-v2}
RUNTIME_TYPE_MODE=${RUNTIME_TYPE_MODE:-path}
RESTART_TIMEOUT=${RESTART_TIMEOUT:-60}
ACTION=${1:-install}

CFG=$HOST_ROOT/etc/containerd/config.toml
BACKUP=$CFG.pre-wasm-shim
DEST=$HOST_ROOT$SHIM_DEST
BEGIN="# BEGIN aks-wasm-migration shim $RUNTIME_HANDLER"
END="# END aks-wasm-migration shim $RUNTIME_HANDLER"
# Suffix of the BEGIN line when install had to end the original's last line: uninstall takes
# that newline back so the file returns to its exact original bytes.
NOEOL_TAG=" (original had no final newline)"

log() { echo "shim-installer: $*"; }
die() { code=$1; shift; echo "shim-installer: error: $*" >&2; exit "$code"; }
host() { nsenter -t 1 -m -- "$@"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

case $ACTION in install | uninstall | check) ;; *) die 2 "unknown action '$ACTION' (install|uninstall|check)" ;; esac
# A RuntimeClass handler is a DNS label, which also keeps it a bare TOML key and regex-safe.
case $RUNTIME_HANDLER in '' | *[!a-z0-9-]* | -* | *-) die 2 "invalid RUNTIME_HANDLER '$RUNTIME_HANDLER'" ;; esac
case $SHIM_DEST in /*) ;; *) die 2 "SHIM_DEST must be an absolute path" ;; esac
case $SHIM_DEST in *[\"\\]*) die 2 "SHIM_DEST must not contain quotes or backslashes" ;; esac
case $RUNTIME_TYPE_MODE in
path) RUNTIME_TYPE=$SHIM_DEST ;;
name) RUNTIME_TYPE=io.containerd.spin.v2 ;;
*) die 2 "RUNTIME_TYPE_MODE must be 'path' or 'name'" ;;
esac
case $RESTART_TIMEOUT in '' | *[!0-9]*) die 2 "RESTART_TIMEOUT must be a whole number of seconds" ;; esac

tmp=
trap 'if [ -n "$tmp" ]; then rm -f "$tmp"; fi' EXIT
trap 'exit 1' HUP INT TERM

# write_atomic DEST MODE COMMAND...: COMMAND's output replaces DEST by a rename within DEST's
# directory, and only if COMMAND succeeded (no pipeline, whose status would hide its failure):
# neither a crash nor a concurrent reader ever sees a half-written file.
write_atomic() {
    target=$1 perm=$2
    shift 2
    tmp=$(mktemp "$target.XXXXXX")
    "$@" >"$tmp"
    chmod "$perm" "$tmp"
    mv -f "$tmp" "$target"
    tmp=
}

# Our first marker block (BEGIN..END lines), empty when absent.
extract_block() {
    awk -v b="$BEGIN" -v e="$END" -v tag="$NOEOL_TAG" '
        $0 == b || $0 == b tag { on = 1 }
        on { print; if ($0 == e) exit }' "$CFG"
}

# rewrite BLOCK: prints the config with our marker block(s) replaced by BLOCK in place of the
# first one, or removed when BLOCK is empty. Lines are printed one behind so that removing a
# tagged block at the end can drop the newline install added.
rewrite() {
    BLOCK=$1 awk -v b="$BEGIN" -v e="$END" -v tag="$NOEOL_TAG" '
        function flush(eol) { if (held) printf "%s%s", line, eol; held = 0 }
        $0 == b || $0 == b tag {
            if (ENVIRON["BLOCK"] != "" && !done) { flush("\n"); print ENVIRON["BLOCK"] }
            else if ($0 == b tag) noeol = 1
            done = 1; skip = 1; next
        }
        skip { if ($0 == e) skip = 0; next }
        { flush("\n"); line = $0; held = 1; noeol = 0 }
        END { flush(noeol ? "" : "\n") }' "$CFG"
}

# append_block BLOCK NOEOL: prints the config with BLOCK appended, ending its last line first
# when NOEOL is set.
append_block() {
    cat "$CFG"
    if [ -n "$2" ]; then echo; fi
    printf '%s\n' "$1"
}

# node_arch: the node's CPU as `uname -m` names it on Linux (the container shares the node's kernel).
node_arch() {
    m=$(uname -m)
    case $m in
    x86_64 | amd64) echo x86_64 ;;
    aarch64 | arm64) echo aarch64 ;;
    *) echo "$m" ;;
    esac
}

# elf_arch FILE: x86_64 or aarch64 for a 64-bit little-endian ELF file of that machine, else what
# the file is instead. Reads bytes 0-19: magic 0-3 (7f 45 4c 46), EI_CLASS 4 (2 = 64-bit), EI_DATA 5
# (1 = little endian), e_machine 18-19 (62 = x86_64, 183 = aarch64).
elf_arch() {
    # shellcheck disable=SC2046 # od prints decimal numbers only; split them into $1..$20
    set -- $(od -An -tu1 -N20 -- "$1" 2>/dev/null || true)
    if [ $# -lt 20 ] || [ "$1 $2 $3 $4" != "127 69 76 70" ]; then
        echo "not an ELF file"
    elif [ "$5 $6" != "2 1" ]; then
        echo "not a 64-bit little-endian ELF file"
    else
        case $((${19} + ${20} * 256)) in
        62) echo x86_64 ;;
        183) echo aarch64 ;;
        *) echo "an ELF file for machine $((${19} + ${20} * 256))" ;;
        esac
    fi
}

# arch_mismatch FILE: empty when FILE is built for the node's CPU, else a sentence saying why not.
arch_mismatch() {
    node=$(node_arch)
    built=$(elf_arch "$1")
    [ "$built" != "$node" ] || return 0
    case $built in x86_64 | aarch64) built="an $built binary" ;; esac
    echo "$1 is $built but this node is $node"
}

restart_containerd() {
    log "restarting containerd"
    host systemctl restart containerd
    deadline=$(($(date +%s) + RESTART_TIMEOUT))
    # ctr's own timeouts keep a hung daemon or missing socket from outliving the deadline.
    until host ctr --address /run/containerd/containerd.sock --connect-timeout 2s --timeout 5s version >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || die 1 "containerd did not answer within ${RESTART_TIMEOUT}s of the restart"
        sleep 1
    done
    log "containerd is answering again"
}

do_check() {
    [ -r "$CFG" ] || die 1 "check: cannot read $CFG"
    [ "$(extract_block | tail -n 1)" = "$END" ] || die 1 "check: no complete marker block for '$RUNTIME_HANDLER' in $CFG"
    if [ ! -f "$DEST" ] || [ ! -x "$DEST" ]; then
        die 1 "check: $DEST is missing or not executable"
    fi
    mismatch=$(arch_mismatch "$DEST")
    [ -z "$mismatch" ] || die 1 "check: $mismatch: containerd cannot run it"
    if [ -f "$SHIM_SRC" ] && [ "$(sha "$DEST")" != "$(sha "$SHIM_SRC")" ]; then
        die 1 "check: $DEST differs from $SHIM_SRC"
    fi
    log "check: ok"
}

do_install() {
    [ -f "$SHIM_SRC" ] || die 1 "shim binary $SHIM_SRC not found"
    mismatch=$(arch_mismatch "$SHIM_SRC")
    if [ -n "$mismatch" ]; then
        die 4 "$mismatch; pin the node-installer image by its multi-arch index digest (or mirror" \
            "every architecture), not by one platform's manifest digest. Nothing was changed."
    fi
    [ -f "$CFG" ] || die 1 "containerd config $CFG not found"

    # Validate the config before touching anything on the node.
    body=$(rewrite '')
    settings=$(printf '%s\n' "$body" | grep -v '^[[:space:]]*#' || true)
    if printf '%s\n' "$settings" |
        grep -Eq "^[[:space:]]*\\[[^]]*\\.runtimes\\.[\"']?${RUNTIME_HANDLER}[\"']?[[:space:]]*[].]"; then
        die 3 "$CFG already has a table for runtime '$RUNTIME_HANDLER' outside our markers" \
            "(KWasm leftover or hand edit); adding ours would duplicate it and stop containerd." \
            "Remove it by hand, then re-run. Nothing was changed."
    fi
    if printf '%s\n' "$settings" | grep -Fq -e '"io.containerd.cri.v1.runtime"' -e "'io.containerd.cri.v1.runtime'"; then
        plugin=io.containerd.cri.v1.runtime
    else
        plugin=io.containerd.grpc.v1.cri
    fi

    # Binary first: the config must never point at a shim that is not there yet.
    if [ -f "$DEST" ] && [ "$(sha "$DEST")" = "$(sha "$SHIM_SRC")" ]; then
        log "shim at $SHIM_DEST is up to date"
    else
        mkdir -p "${DEST%/*}"
        write_atomic "$DEST" 755 cat "$SHIM_SRC"
        log "installed shim at $SHIM_DEST"
    fi

    current=$(extract_block)
    noeol=
    if [ -n "$current" ]; then
        case $current in "$BEGIN$NOEOL_TAG"*) noeol=1 ;; esac
    elif [ -n "$(tail -c 1 "$CFG")" ]; then
        noeol=1
    fi
    desired="$BEGIN${noeol:+$NOEOL_TAG}
[plugins.\"$plugin\".containerd.runtimes.$RUNTIME_HANDLER]
  runtime_type = \"$RUNTIME_TYPE\"
[plugins.\"$plugin\".containerd.runtimes.$RUNTIME_HANDLER.options]
  SystemdCgroup = true
$END"
    if [ "$current" = "$desired" ]; then
        log "containerd config already has runtime '$RUNTIME_HANDLER'"
        return
    fi

    mode=$(stat -c %a "$CFG")
    if [ ! -e "$BACKUP" ]; then
        write_atomic "$BACKUP" "$mode" cat "$CFG"
        log "backed up the original config to ${BACKUP#"$HOST_ROOT"}"
    fi
    if [ -n "$current" ]; then
        write_atomic "$CFG" "$mode" rewrite "$desired"
        log "updated runtime '$RUNTIME_HANDLER' under plugin $plugin"
    else
        write_atomic "$CFG" "$mode" append_block "$desired" "$noeol"
        log "added runtime '$RUNTIME_HANDLER' under plugin $plugin"
    fi
    restart_containerd
}

do_uninstall() {
    if [ -f "$CFG" ] && [ -n "$(extract_block)" ]; then
        write_atomic "$CFG" "$(stat -c %a "$CFG")" rewrite ''
        log "removed runtime '$RUNTIME_HANDLER' from the containerd config"
        restart_containerd
    else
        log "containerd config has no runtime '$RUNTIME_HANDLER' of ours"
    fi
    # After the restart, so containerd never references a missing binary.
    if [ -e "$DEST" ]; then
        rm -f "$DEST"
        log "removed $SHIM_DEST"
    fi
}

"do_$ACTION"
