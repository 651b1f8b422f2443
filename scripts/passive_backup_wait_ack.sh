#!/bin/sh
# A measurement outside the harness, which drills failover pairs only: Kea passive-backup (a lone
# primary and its backup, the one mode where Kea accepts "wait-backup-ack": true), the backup
# SIGKILLed while perfdhcp leases through the primary. The primary then holds each ACK until the
# backup acknowledges the lease update: what do clients see once it is dead?
#
#   flock -o /tmp/dhcpdrill-docker.lock scripts/passive_backup_wait_ack.sh [IMAGE] [true|false]
#
# Everything lives on one internal Docker network in 198.18.208.0/20 (perfdhcp talks to the
# primary by unicast as a relay would, so no broadcast rule is needed), labelled and removed at exit.
set -u
IMG=${1:-$(docker images --format '{{.Repository}}:{{.Tag}}' dhcpdrill/lab | grep ':bookworm-[0-9a-f]*$' | head -1)}
WAIT=${2:-true}
OUT=$(mktemp -d)
L="--label dhcpdrill.experiment=passive-backup-wait-ack"
cleanup() { docker rm -f pbx-client pbx-primary pbx-backup >/dev/null 2>&1; docker network rm pbx-net >/dev/null 2>&1; }
trap cleanup EXIT INT TERM
for me in primary backup; do cat > "$OUT/$me.json" <<JSON
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "eth0" ], "dhcp-socket-type": "raw" },
  "control-socket": { "socket-type": "unix", "socket-name": "/run/kea/kea4-ctrl-socket" },
  "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 16 },
  "lease-database": { "type": "memfile", "persist": true, "name": "/var/lib/kea/kea-leases4.csv", "lfc-interval": 0 },
  "valid-lifetime": 60,
  "hooks-libraries": [
    { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so" },
    { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so", "parameters": { "high-availability": [ {
      "this-server-name": "$me", "mode": "passive-backup", "wait-backup-ack": $WAIT,
      "multi-threading": { "enable-multi-threading": true, "http-dedicated-listener": true,
                           "http-listener-threads": 2, "http-client-threads": 2 },
      "peers": [ { "name": "primary", "url": "http://198.18.208.11:8001/", "role": "primary" },
                 { "name": "backup", "url": "http://198.18.208.13:8001/", "role": "backup" } ] } ] } } ],
  "subnet4": [ { "id": 1, "subnet": "198.18.208.0/20", "pools": [ { "pool": "198.18.209.0 - 198.18.223.200" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "stdout" } ], "severity": "INFO" } ] } }
JSON
done
docker network create --internal --subnet 198.18.208.0/20 $L pbx-net >/dev/null || exit 1
start() {
  docker create $L --name pbx-$1 --network pbx-net --ip $2 --cap-add NET_ADMIN --cap-add NET_RAW \
    -e KEA_PIDFILE_DIR=/run/kea -e KEA_LOCKFILE_DIR=/run/kea "$IMG" sh -c \
    'mkdir -p /run/kea /var/lib/kea; chmod 750 /run/kea; (ethtool -K eth0 tx off >/dev/null 2>&1 || true); exec kea-dhcp4 -c /etc/kea/x.json' >/dev/null
  docker cp "$OUT/$1.json" pbx-$1:/etc/kea/x.json && docker start pbx-$1 >/dev/null
}
start backup 198.18.208.13
start primary 198.18.208.11
sleep 4
docker run -d $L --name pbx-client --network pbx-net --ip 198.18.208.50 --cap-add NET_ADMIN --cap-add NET_RAW "$IMG" \
  perfdhcp -4 -r 10 -R 100000 -p 70 -t 5 198.18.208.11 >/dev/null
sleep 25
echo "wait-backup-ack $WAIT, $(docker exec pbx-primary kea-dhcp4 -V | head -1): backup killed at $(date -u +%T)"
docker kill pbx-backup >/dev/null
sleep 50
echo "perfdhcp every 5 s (sent/received: DISCOVER-OFFER / REQUEST-ACK):"
docker logs pbx-client 2>&1 | grep '^sent:'
echo "primary's warnings after the kill:"
docker logs pbx-primary 2>&1 | grep -E 'WARN|ERROR' | grep -v -E 'MULTI_THREADING_INFO|RESERVATIONS_LOOKUP' | awk '{print $5}' | sort | uniq -c
echo "leases the primary allocated: $(docker logs pbx-primary 2>&1 | grep -c DHCP4_LEASE_ALLOC)"
rm -rf "$OUT"
