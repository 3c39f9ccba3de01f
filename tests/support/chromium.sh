# Sourced by the tests that drive a real headless Chromium (label chromium),
# after they set $work. Finds the browser once (the Debian package is
# installed when it is missing) and offers:
#
# fail MSG: prints "FAIL: MSG" and ends the test (exit 1).
#
# chromium_run OUT LOG ARGS...: Chromium on ARGS (the URL last) in a fresh
# profile under $work, its stdout to OUT and its log (stderr: console
# messages, load errors) to LOG; non-zero when it fails or takes over 180 s.
#
# The flags every run takes: headless as root (no sandbox, no GPU), none of
# the browser's own fetching (updates, sync, QUIC), and every host name
# resolving to nothing, so that not even a background request can leave
# the machine; logging to stderr, which the tests read for console errors.
fail() { echo "FAIL: $*" >&2; exit 1; }

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    echo "chromium is missing: installing the Debian package"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    CHROMIUM=$(command -v chromium) || fail "cannot install chromium (apt-get install chromium)"
fi
CHROMIUM_FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
                --disable-background-networking --disable-component-update --disable-sync
                --host-resolver-rules="MAP * ~NOTFOUND" --enable-logging=stderr --v=0)

chromium_run() {
    local out=$1 log=$2
    shift 2
    timeout 180 "$CHROMIUM" "${CHROMIUM_FLAGS[@]}" --user-data-dir="$(mktemp -d "$work/profile-XXXXXX")" \
        "$@" >"$out" 2>"$log"
}
