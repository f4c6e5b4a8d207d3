#!/usr/bin/env bash
# Regenerate fuzz/seeds/agent_request/: what real OpenSSH clients (ssh-add, ssh-keygen -Y sign)
# send to `latchkey agent`, recorded by record.py between them, one file per scenario, plus a few
# synthetic streams (session-bind, unknown and SSH-1 messages) that no local tool sends.
# Every key is a throwaway generated here. Needs target/debug/latchkey (cargo build), OpenSSH and
# python3 with `cryptography`. Usage: bash fuzz/seeds/capture.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
latchkey="${LATCHKEY:-$root/target/debug/latchkey}"
seeds="$here/agent_request"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

export HOME="$work/home" LATCHKEY_HOME="$work/latchkey"
unset SSH_AUTH_SOCK SSH_ASKPASS DISPLAY
mkdir -p "$HOME/.ssh" "$seeds"
cd "$work"

"$latchkey" agent -D -a "$work/agent.sock" >/dev/null 2>"$work/agent.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$work/agent.sock" ] && break; sleep 0.05; done

keygen() { ssh-keygen -q -N "" -C "seed-$1" -f "$1" "${@:2}"; }
keygen ed -t ed25519
keygen p256 -t ecdsa -b 256
keygen p384 -t ecdsa -b 384
keygen p521 -t ecdsa -b 521
keygen rsa -t rsa -b 2048
keygen certkey -t ed25519
keygen ca -t ed25519
ssh-keygen -q -s ca -I seed-cert -n seeduser certkey.pub
keygen host -t ed25519
echo "example.test $(cat host.pub)" > "$HOME/.ssh/known_hosts"
echo "data to sign" > msg
printf '#!/bin/sh\necho seed-lock-pw\n' > askpass && chmod +x askpass

# scenario NAME COMMAND...: run COMMAND (a shell snippet) against the recorder; the agent is
# emptied afterwards, unrecorded.
scenario() {
  local name="$1" out="$seeds/$1"
  rm -f "$out" "$work/rec.sock"
  python3 "$here/record.py" "$work/rec.sock" "$work/agent.sock" "$out" &
  local rec=$!
  for _ in $(seq 100); do [ -S "$work/rec.sock" ] && break; sleep 0.05; done
  SSH_AUTH_SOCK="$work/rec.sock" bash -c "$2" >/dev/null 2>&1 || true
  kill "$rec"; wait "$rec" 2>/dev/null || true
  SSH_AUTH_SOCK="$work/agent.sock" ssh-add -D >/dev/null 2>&1 || true
  echo "$name: $(wc -c <"$out") bytes"
}

scenario list 'ssh-add -l; ssh-add -L'
scenario ed25519 'ssh-add ed; ssh-add -l; ssh-keygen -Y sign -f ed.pub -n file msg; ssh-add -T ed.pub; ssh-add -d ed.pub'
for k in p256 p384 p521; do
  scenario "ecdsa-$k" "ssh-add $k; ssh-keygen -Y sign -f $k.pub -n file msg; ssh-add -d $k.pub"
done
scenario rsa 'ssh-add rsa; ssh-add -L; ssh-keygen -Y sign -f rsa.pub -n file msg; ssh-add -T rsa.pub; ssh-add -D'
scenario constrained 'ssh-add -c -t 60 ed; ssh-add -l; ssh-keygen -Y sign -f ed.pub -n file msg'
scenario certificate 'ssh-add certkey; ssh-add -l; ssh-keygen -Y sign -f certkey-cert.pub -n file msg; ssh-add -D'
# -H: ssh-add reads ~/.ssh/known_hosts of the passwd entry, not of $HOME.
scenario restricted 'ssh-add -H "$HOME/.ssh/known_hosts" -h example.test -h "seeduser@example.test" ed; ssh-add -l; ssh-keygen -Y sign -f ed.pub -n file msg'
scenario lock 'export SSH_ASKPASS=./askpass SSH_ASKPASS_REQUIRE=force; ssh-add ed; ssh-add -x; ssh-add -l; ssh-add -X; ssh-add -l'

# Synthetic streams (wire framing: uint32 length, byte type, contents).
python3 - "$seeds" <<'PY'
import os, struct, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

seeds = sys.argv[1]
u32 = lambda n: struct.pack(">I", n)
s = lambda b: u32(len(b)) + b
frame = lambda body: u32(len(body)) + body

host = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
raw = host.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
host_blob = s(b"ssh-ed25519") + s(raw)
sid = bytes(range(100, 132))
sig = s(b"ssh-ed25519") + s(host.sign(sid))
bind = lambda session, fwd: frame(b"\x1b" + s(b"session-bind@openssh.com") + s(host_blob) + s(session) + s(sig) + bytes([fwd]))
userauth = (s(sid) + b"\x32" + s(b"seeduser") + s(b"ssh-connection") + s(b"publickey-hostbound-v00@openssh.com")
            + b"\x01" + s(b"ssh-ed25519") + s(host_blob) + s(host_blob))
streams = {
    "session-bind": bind(sid, 0) + bind(sid, 0) + frame(b"\x0b") + frame(b"\x0d" + s(host_blob) + s(userauth) + u32(0)),
    "session-bind-forwarded": bind(sid, 1) + frame(b"\x0b"),
    "session-bind-bad-signature": bind(b"another session", 0) + frame(b"\x0b"),
    "extension-query": frame(b"\x1b" + s(b"query")) + frame(b"\x1b" + s(b"unknown@example.test") + b"x"),
    "unknown-and-ssh1": b"".join(frame(bytes([t])) for t in (1, 3, 7, 8, 9, 24, 20, 21, 26, 200, 0, 255)) + frame(b"\x0b"),
    "empty-and-truncated": frame(b"") + frame(b"\x0b") + u32(100) + b"\x0d\x00\x00",
    "lock-wrong-password": frame(b"\x16" + s(b"pw")) + frame(b"\x17" + s(b"wrong")) + frame(b"\x17" + s(b"pw")),
}
for name, data in streams.items():
    with open(os.path.join(seeds, name), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")
PY
