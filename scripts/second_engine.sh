#!/usr/bin/env bash
# A second Docker engine on this host, for trying drills on several engines without a second
# machine: `scripts/second_engine.sh start` prints its URL (unix:///run/dhcpdrill-engine2.sock),
# `stop` ends it and removes its data. Needs root and Debian's dockerd.
#
# `start --tls` also listens on tcp://127.0.0.1:2376 with mutual TLS, as a remote drill host
# would (Docker's "protect the daemon socket" setup): it makes a throw-away CA, a server
# certificate for 127.0.0.1 and a client certificate under /run/dhcpdrill-engine2-tls, and prints
# the environment the Docker SDK needs (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH).
#
# As Docker's documentation prescribes for a second daemon on one host, it runs without a default
# bridge and without its own iptables rules (both daemons would otherwise rewrite the same
# chains). The drills' safety does not rest on those: their networks are still `internal`
# bridges with no physical interface and no route out, and the harness adds and removes its own
# DOCKER-USER rule and bridge filter from a helper on the host's network, as on the first engine.
set -euo pipefail
name=dhcpdrill-engine2
sock=/run/$name.sock root=/var/lib/$name exec_root=/run/$name pidfile=/run/$name.pid
config=/run/$name.json log=/var/log/$name.log tls=/run/$name-tls

make_certs() {  # CA, server (127.0.0.1) and client certificates, as `dockerd --tlsverify` wants them
  mkdir -p "$tls"; cd "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dhcpdrill test CA" \
    -keyout ca-key.pem -out ca.pem 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server-key.pem -out server.csr 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
    -extfile server.ext -out server-cert.pem 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=drill client" -keyout key.pem -out client.csr 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >client.ext
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
    -extfile client.ext -out cert.pem 2>/dev/null
  chmod 0400 ca-key.pem server-key.pem key.pem
  cd - >/dev/null
}

case "${1:-}" in
start)
  hosts=(--host "unix://$sock")
  if [ "${2:-}" = "--tls" ]; then
    [ -f "$tls/cert.pem" ] || make_certs
    hosts+=(--host tcp://127.0.0.1:2376 --tlsverify --tlscacert "$tls/ca.pem"
            --tlscert "$tls/server-cert.pem" --tlskey "$tls/server-key.pem")
  fi
  say() {
    echo "unix://$sock"
    [ "${2:-}" != "--tls" ] || echo "tcp://127.0.0.1:2376 with DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$tls"
  }
  if [ -S "$sock" ] && docker -H "unix://$sock" info >/dev/null 2>&1; then say "$@"; exit 0; fi
  mkdir -p "$root" "$exec_root"
  # The host engine's storage and log settings (e.g. fuse-overlayfs where overlay2 cannot nest),
  # without what must differ per daemon.
  python3 - "$config" <<'EOF'
import json, sys
try:
    with open("/etc/docker/daemon.json") as f:
        conf = json.load(f)
except FileNotFoundError:
    conf = {}
for key in ("data-root", "hosts", "pidfile", "exec-root", "bridge", "iptables", "ip6tables", "ip-masq",
            "tls", "tlsverify", "tlscacert", "tlscert", "tlskey"):
    conf.pop(key, None)
json.dump(conf, open(sys.argv[1], "w"))
EOF
  nohup dockerd --config-file "$config" "${hosts[@]}" --data-root "$root" --exec-root "$exec_root" \
    --pidfile "$pidfile" --bridge none --iptables=false --ip6tables=false --ip-masq=false >"$log" 2>&1 &
  for _ in $(seq 60); do
    docker -H "unix://$sock" info >/dev/null 2>&1 && { say "$@"; exit 0; }
    sleep 1
  done
  echo "the second engine did not start; see $log" >&2
  exit 1
  ;;
stop)
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  for _ in $(seq 30); do [ -e "$pidfile" ] || break; sleep 1; done
  # The daemon leaves its network namespaces and storage mounted under its roots.
  for m in $(awk -v a="$root" -v b="$exec_root" '$2 ~ "^"a || $2 ~ "^"b {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || true
  done
  rm -rf "$root" "$exec_root" "$config" "$tls"
  ;;
*)
  echo "usage: $0 start [--tls] | stop" >&2
  exit 2
  ;;
esac
