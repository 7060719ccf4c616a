# Shared by the bench scripts: install what is missing, build unruly, start nginx.
# Everything listens on 127.0.0.1 only.

need_packages() {
    local missing=()
    command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    [ -x /usr/bin/time ] || missing+=(time)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]} from Debian" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

build_unruly() {
    (cd "$ROOT" && cargo build --release -q -p unruly) || exit 1
    UNRULY="$ROOT/target/release/unruly"
}

# start_nginx PORT: nginx with bench/nginx.conf on 127.0.0.1:PORT, serving a 100-byte file.
start_nginx() {
    NGINX_DIR=$(mktemp -d /tmp/unruly-bench-nginx.XXXXXX)
    mkdir -p "$NGINX_DIR/www"
    chmod 755 "$NGINX_DIR" "$NGINX_DIR/www"   # the nginx worker (www-data) must read it
    head -c 100 /dev/zero | tr '\0' 'x' > "$NGINX_DIR/www/index.html"
    sed -e "s#/tmp/unruly-bench-nginx#$NGINX_DIR#g" -e "s#127.0.0.1:18080#127.0.0.1:$1#" \
        "$ROOT/bench/nginx.conf" > "$NGINX_DIR/nginx.conf"
    nginx -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR" &
    NGINX_PID=$!
    trap 'kill $NGINX_PID 2>/dev/null; rm -rf "$NGINX_DIR"' EXIT
    for _ in $(seq 50); do
        curl -sf -o /dev/null "http://127.0.0.1:$1/index.html" 2>/dev/null && return 0
        python3 - "$1" <<'PY' 2>/dev/null && return 0
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
PY
        sleep 0.1
    done
    echo "nginx did not start on 127.0.0.1:$1" >&2
    exit 1
}
