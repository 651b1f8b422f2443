#!/usr/bin/env bash
# Lab certificates for a Kea HA pair whose peers talk TLS (fixtures/kea-hot-standby-tls), made
# with openssl and committed under the paths the configs name, mirrored in the pair folder:
#   scripts/make_tls_certs.sh PAIR_FOLDER PRIMARY_IP STANDBY_IP
# writes PAIR_FOLDER/etc/kea/tls/{ca.crt,primary.crt,primary.key,standby.crt,standby.key}: a lab
# CA (valid 100 years) and one certificate per server (CN = its peer name, subjectAltName = its
# lab address, serverAuth + clientAuth: each peer is server and client), valid 100 years.
# PAIR_FOLDER/expired/etc/kea/tls/standby.crt is the standby's certificate again (same key,
# subject and CA) but valid only from 2020-01-01 to 2020-01-02: the expired-certificate drill puts
# it in place of the live one (`openssl ca -startdate/-enddate` backdates; `x509 -days` cannot).
# The CA's key is not kept: new certificates mean running this again (and committing them all).
# Addresses: 198.18.0.0/15 only (the lab's range).
set -euo pipefail
pair=${1:?pair folder}; primary=${2:?primary address}; standby=${3:?standby address}
for ip in "$primary" "$standby"; do
  case $ip in 198.18.*|198.19.*) ;; *) echo "$ip is outside 198.18.0.0/15" >&2; exit 2;; esac
done
out=$pair/etc/kea/tls expired=$pair/expired/etc/kea/tls
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$out" "$expired"
days=36500
openssl req -x509 -newkey rsa:2048 -nodes -days $days -subj "/O=dhcpdrill lab/CN=dhcpdrill lab CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$work/ca.key" -out "$out/ca.crt" 2>/dev/null
issue() {  # name ip [openssl ca date options...]: a certificate for the peer `name` at `ip`
  local name=$1 ip=$2; shift 2
  printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n' \
    "$ip" >"$work/$name.ext"
  printf '[ca]\ndefault_ca=lab\n[lab]\ndatabase=%s/index\nnew_certs_dir=%s\nserial=%s/serial\ndefault_md=sha256\npolicy=any\nunique_subject=no\ncopy_extensions=none\n[any]\ncommonName=supplied\norganizationName=optional\n' \
    "$work" "$work" "$work" >"$work/ca.cnf"
  openssl ca -batch -config "$work/ca.cnf" -cert "$out/ca.crt" -keyfile "$work/ca.key" \
    -in "$work/$name.csr" -extfile "$work/$name.ext" -notext "$@" -out "$work/$name.crt" 2>/dev/null
}
: >"$work/index"; echo 1000 >"$work/serial"
for name in primary standby; do
  ip=$primary; [ $name = standby ] && ip=$standby
  openssl req -newkey rsa:2048 -nodes -subj "/O=dhcpdrill lab/CN=$name" \
    -keyout "$out/$name.key" -out "$work/$name.csr" 2>/dev/null
  issue $name "$ip" -days $days
  cp "$work/$name.crt" "$out/$name.crt"
done
issue standby "$standby" -startdate 20200101000000Z -enddate 20200102000000Z
cp "$work/standby.crt" "$expired/standby.crt"
chmod 0644 "$out"/*.key  # lab keys, committed: the container's kea user must read them
openssl verify -CAfile "$out/ca.crt" "$out/primary.crt" "$out/standby.crt"
! openssl verify -CAfile "$out/ca.crt" "$expired/standby.crt" >/dev/null 2>&1 || { echo "not expired?" >&2; exit 1; }
echo "expired copy: $(openssl x509 -in "$expired/standby.crt" -noout -enddate)"
