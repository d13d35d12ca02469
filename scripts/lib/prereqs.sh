# Shared by scripts/dev and scripts/test: install what is missing on Debian/Ubuntu (apt-get as root,
# else print the one command to run), and the PyPI test clients with pip.

# Debian packages for the packages' commands/libraries that are missing, from "check:package" pairs.
coffer_missing_packages() {
    local missing=() pair check package
    for pair in "$@"; do
        check=${pair%:*}
        package=${pair##*:}
        case "$check" in
        lib:*) pkg-config --exists "${check#lib:}" 2>/dev/null || missing+=("$package") ;;
        glob:*) compgen -G "${check#glob:}" >/dev/null || missing+=("$package") ;;
        *) command -v "$check" >/dev/null 2>&1 || missing+=("$package") ;;
        esac
    done
    echo "${missing[@]}"
}

# Installs the Debian packages named, or explains how and fails when not root.
coffer_apt_install() {
    [ $# -gt 0 ] || return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "coffer: installing $* (apt-get)" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    else
        echo "coffer: missing $*; install them once, then run this again:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y $*" >&2
        exit 1
    fi
}

# What building Coffer needs beyond Swift: pkg-config and Debian's libargon2.
coffer_build_prerequisites() {
    # shellcheck disable=SC2046
    coffer_apt_install $(coffer_missing_packages pkg-config:pkg-config lib:libargon2:libargon2-dev)
}

# Installs PyPI packages for python3 that are not importable yet ("module:package" pairs).
coffer_pip_install() {
    local wanted=() pair
    for pair in "$@"; do
        python3 -c "import ${pair%%:*}" 2>/dev/null || wanted+=("${pair#*:}")
    done
    [ ${#wanted[@]} -gt 0 ] || return 0
    echo "coffer: installing ${wanted[*]} (pip)" >&2
    python3 -m pip --version >/dev/null 2>&1 || coffer_apt_install python3-pip
    local user=()
    [ "$(id -u)" = 0 ] || user=(--user)
    # Debian's own Python marks itself externally managed (PEP 668); a pyenv/venv Python does not.
    python3 -m pip install -q "${user[@]}" "${wanted[@]}" 2>/dev/null ||
        python3 -m pip install -q "${user[@]}" --break-system-packages "${wanted[@]}"
}

# A free TCP port on 127.0.0.1, from the kernel.
coffer_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
