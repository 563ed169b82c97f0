#!/usr/bin/env bash
# Builds the container image from ./Containerfile and tests it end to end:
#   1. a stand-in for the base image, since no registry is reachable here: debootstrap (minbase)
#      from this machine's Debian sources, plus this machine's Node 20 (node, npm, headers);
#   2. podman build with that stand-in as BASE_IMAGE and BUILD_IMAGE;
#   3. the service started from the image (buildah run: podman run cannot run on these machines),
#      config and keys mounted read-only, data mounted, one data key given by environment;
#   4. notifications sent from outside with the host's dist/ build (`ctp-notify send`), listed
#      with `ctp-notify notifications list` inside the image, the image's HEALTHCHECK run;
#   5. SIGTERM to the service (it must exit 0), then a check that nothing was written to the
#      container's root file system (what a read-only root needs) and that /app is not writable.
# Everything it makes (containers, images, temp folders) is removed on exit, also on failure.
#
# Needs: root, podman, buildah, debootstrap, node 20, and dist/ (npm run build).
# Usage:  scripts/test-image.sh
# Env:    CTP_TEST_IMAGE_BASE=IMAGE   use IMAGE as base and build image instead of the stand-in
#                                     (e.g. docker.io/library/node:20-bookworm-slim where a registry is reachable)
#         CTP_DEBIAN_MIRROR=URL       debootstrap mirror (default: the first URIs of the machine's apt sources)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
started=$(date +%s)

say() { printf '# test-image: %s\n' "$*"; }
fail() { printf 'test-image: FAILED: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || fail "$1 not found (apt-get install podman buildah debootstrap)"; }

[ "$(id -u)" = 0 ] || fail "run as root (debootstrap and podman's root storage)"
for tool in podman buildah node; do need "$tool"; done
[ -n "${CTP_TEST_IMAGE_BASE:-}" ] || need debootstrap
[ -f dist/src/cli.js ] || fail "dist/ missing: run npm run build first"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 20 ] || fail "this machine's node is $node_major, the image is for Node 20"

run_id="ctp-test-$$-$(date +%s)"
tmp=$(mktemp -d "/tmp/$run_id.XXXXXX")
base_tag="localhost/ctp-notify-test-base:$run_id"
image_tag="localhost/ctp-notify-test:$run_id"
images_before=$(podman images -aq --no-trunc | sort -u)
containers_before=$(buildah containers -aq --notruncate | sort -u)
ctr=""
serve_pid=""
child=""

# Long steps run in their own process group, so that a signal to this script ends them at once
# (bash runs traps only between foreground commands) and cleanup can stop the whole group.
# Usage: run_child LOG COMMAND... (output to LOG, so that this shell's own output stays visible).
run_child() {
  local log=$1
  shift
  setsid "$@" >"$log" 2>&1 &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=""
  return $rc
}

cleanup() {
  local rc=$?
  set +e
  if [ -n "$child" ]; then
    kill -TERM -- "-$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid" 2>/dev/null
    sleep 2
    kill -KILL "$serve_pid" 2>/dev/null
    wait "$serve_pid" 2>/dev/null
  fi
  if [ -n "$ctr" ]; then
    buildah umount "$ctr" >/dev/null 2>&1
    buildah rm "$ctr" >/dev/null 2>&1
  fi
  # Build containers a killed podman build may have left: only those that did not exist before.
  comm -13 <(printf '%s\n' "$containers_before") <(buildah containers -aq --notruncate | sort -u) | xargs -r buildah rm >/dev/null 2>&1
  podman rmi -f "$image_tag" >/dev/null 2>&1
  [ -z "${CTP_TEST_IMAGE_BASE:-}" ] && podman rmi -f "$base_tag" >/dev/null 2>&1
  # Intermediate images of this build (the build stage): only those that did not exist before.
  comm -13 <(printf '%s\n' "$images_before") <(podman images -aq --no-trunc | sort -u) | xargs -r podman rmi -f >/dev/null 2>&1
  # debootstrap may leave proc/sys mounted inside the stand-in's root if it was interrupted.
  findmnt -rn -o TARGET | grep -F "$tmp/" | sort -r | xargs -r umount -l 2>/dev/null
  rm -rf --one-file-system "$tmp"
  [ $rc -ne 0 ] && printf 'test-image: FAILED (exit %s); everything it made was removed\n' "$rc" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. stand-in base image ------------------------------------------------------------------
t0=$(date +%s)
if [ -n "${CTP_TEST_IMAGE_BASE:-}" ]; then
  base_tag=$CTP_TEST_IMAGE_BASE
  say "base image: $base_tag (given)"
else
  . /etc/os-release
  mirror=${CTP_DEBIAN_MIRROR:-$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)}
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || fail "no Debian mirror found in /etc/apt/sources.list*; set CTP_DEBIAN_MIRROR"
  rootfs="$tmp/rootfs"
  say "debootstrap --variant=minbase $VERSION_CODENAME from $mirror"
  run_child "$tmp/debootstrap.log" debootstrap --variant=minbase "$VERSION_CODENAME" "$rootfs" "$mirror" \
    || { tail -20 "$tmp/debootstrap.log" >&2; fail "debootstrap"; }
  # The layout of the official node images: /usr/local/{bin/node,lib/node_modules/npm,include/node}.
  node_bin=$(readlink -f "$(command -v node)")
  node_prefix=$(dirname "$(dirname "$node_bin")")
  npm_dir="$(npm root -g)/npm"
  [ -d "$node_prefix/include/node" ] || fail "no Node headers in $node_prefix/include/node (node-gyp needs them)"
  [ -d "$npm_dir" ] || fail "npm not found in $npm_dir"
  install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/include"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  cp -a "$node_prefix/include/node" "$rootfs/usr/local/include/node"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # The machine's own apt sources (with security updates), for apt-get in the build stage.
  if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
    rm -f "$rootfs/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/*.sources "$rootfs/etc/apt/sources.list.d/"
  fi
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]')
  # Where this machine's HTTPS egress needs its own CA, npm in the build stage needs it too.
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    install -D -m 0644 "$NODE_EXTRA_CA_CERTS" "$rootfs/etc/ssl/certs/ctp-test-extra-ca.crt"
    changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ctp-test-extra-ca.crt')
  fi
  tar -C "$rootfs" -c . | podman import "${changes[@]}" - "$base_tag" >/dev/null 2>"$tmp/import.log" || { cat "$tmp/import.log" >&2; fail "podman import"; }
  rm -rf --one-file-system "$rootfs"
  say "stand-in base $base_tag: $(podman image inspect --format '{{.Size}}' "$base_tag" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
fi
t_base=$(( $(date +%s) - t0 ))

# --- 2. build ----------------------------------------------------------------------------------
t0=$(date +%s)
say "podman build (log in the temp folder; shown on failure)"
run_child "$tmp/build.log" podman build --isolation chroot --network host --format docker --layers=false \
  --build-arg "BASE_IMAGE=$base_tag" --build-arg "BUILD_IMAGE=$base_tag" \
  -t "$image_tag" -f Containerfile . || { tail -40 "$tmp/build.log" >&2; fail "podman build"; }
t_build=$(( $(date +%s) - t0 ))
image_bytes=$(podman image inspect --format '{{.Size}}' "$image_tag")
image_user=$(podman image inspect --format '{{.Config.User}}' "$image_tag")
health=$(podman image inspect --format '{{json .HealthCheck.Test}}' "$image_tag")
[ "$image_user" = "10001:10001" ] || fail "image user is '$image_user', expected 10001:10001"
case "$health" in *healthcheck.mjs*) ;; *) fail "no HEALTHCHECK in the image (got $health)";; esac

# --- 3. start the service from the image -------------------------------------------------------
free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port=$(free_port)
admin_port=$(free_port)
[ "$port" != "$admin_port" ] || admin_port=$(free_port)
# Keys as they would be laid out: the "Visa" side (signing key) stays on the host; the service
# gets its decryption key, Visa's certificate and secrets, owned by the image's user, mode 0600.
node --input-type=module -e 'const m = await import(process.argv[1]); await m.ensureDevSetup(process.argv[2]);' \
  "$repo/dist/src/cli/dev-setup.js" "$tmp/visa"
cfg="$tmp/etc-ctp-notify"
data="$tmp/data"
mkdir -p "$cfg/keys" "$cfg/secrets" "$data"
cp "$tmp/visa/keys/issuer-enc-dev.key.pem" "$tmp/visa/keys/issuer-enc-dev.cert.pem" "$tmp/visa/visa-stand-in/visa-sign-dev.cert.pem" "$cfg/keys/"
cp "$tmp/visa/secrets/fingerprint-key" "$tmp/visa/secrets/x-pay-token-secret" "$cfg/secrets/"
cat >"$cfg/config.json" <<EOF
{
  "listen": { "host": "127.0.0.1", "port": $port },
  "storage": { "url": "sqlite:/var/lib/ctp-notify/ctp.sqlite" },
  "workers": 2,
  "keys": {
    "decryption": [{ "kid": "issuer-enc-dev", "privateKey": "keys/issuer-enc-dev.key.pem" }],
    "verification": [{ "kid": "visa-sign-dev", "certificate": "keys/visa-sign-dev.cert.pem" }]
  },
  "auth": { "xPayToken": { "sharedSecret": { "file": "secrets/x-pay-token-secret" } } },
  "dataProtection": { "keys": [{ "id": "k1", "env": "CTP_DATA_KEY_1" }], "fingerprintKey": { "file": "secrets/fingerprint-key" } },
  "admin": { "host": "127.0.0.1", "port": $admin_port },
  "log": { "level": "info" }
}
EOF
chmod 0600 "$cfg/keys/issuer-enc-dev.key.pem" "$cfg/secrets/"*
chown -R 10001:10001 "$cfg" "$data"
chmod 0700 "$data"
data_key=$(tr -d '\n' <"$tmp/visa/secrets/data-key-dev1")

ctr=$(buildah from --pull-never --name "$run_id" "$image_tag")
in_image() {
  buildah run --isolation chroot --network host \
    -v "$cfg:/etc/ctp-notify:ro" -v "$data:/var/lib/ctp-notify" -e "CTP_DATA_KEY_1=$data_key" "$ctr" -- "$@"
}
t0=$(date +%s)
in_image node /app/dist/src/cli.js serve >"$tmp/serve.log" 2>&1 &
serve_pid=$!
ready=""
for _ in $(seq 1 120); do
  kill -0 "$serve_pid" 2>/dev/null || { tail -20 "$tmp/serve.log" >&2; fail "the service exited at start"; }
  if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))' \
    "http://127.0.0.1:$port/readyz"; then ready=yes; break; fi
  sleep 0.5
done
[ -n "$ready" ] || { tail -20 "$tmp/serve.log" >&2; fail "/readyz did not answer 200 within 60 s"; }
say "service ready on 127.0.0.1:$port after $(( $(date +%s) - t0 )) s (2 workers, SQLite in the mounted data folder)"

# --- 4. send from outside, list inside, healthcheck ----------------------------------------------
sent=$(cd "$tmp" && node "$repo/dist/src/cli.js" send --url "http://127.0.0.1:$port" --count 3 \
  --signing-key "$tmp/visa/visa-stand-in/visa-sign-dev.key.pem" --signing-kid visa-sign-dev \
  --encryption-cert "$tmp/visa/keys/issuer-enc-dev.cert.pem" --encryption-kid issuer-enc-dev \
  --x-pay-token-secret-file "$tmp/visa/secrets/x-pay-token-secret") || fail "ctp-notify send: $sent"
say "ctp-notify send (host): $sent"
[ "$sent" = "sent 3: 3x 200" ] || fail "expected 3x 200"
in_image ctp-notify notifications list --format json >"$tmp/list.json" 2>"$tmp/list.err" \
  || { cat "$tmp/list.err" >&2; fail "notifications list in the image"; }
# Only counts are printed: the list carries the sample enroller's contact fields.
listed=$(node -e 'const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${a.length} listed, ${a.filter((n) => n.status === "accepted").length} accepted`)' "$tmp/list.json")
say "ctp-notify notifications list (image): $listed"
[ "$listed" = "3 listed, 3 accepted" ] || fail "expected the 3 notifications, accepted"
health_cmd=$(podman image inspect --format '{{json .HealthCheck.Test}}' "$image_tag" | node -e 'const t = JSON.parse(require("fs").readFileSync(0, "utf8")); if (t[0] !== "CMD") process.exit(1); console.log(t.slice(1).join("\n"))')
mapfile -t health_argv <<<"$health_cmd"
in_image "${health_argv[@]}" || fail "HEALTHCHECK (${health_argv[*]}) failed"
say "HEALTHCHECK ${health_argv[*]}: exit 0"

# --- 5. graceful stop, read-only root ------------------------------------------------------------
# buildah run answers SIGTERM by killing its child, so the signal goes to the service's primary
# process itself (chroot isolation shares the host's PID namespace; the pid is in its log line).
primary=$(sed -n 's/.*"pid":\([0-9]*\).*"workers":2,"msg":"listening".*/\1/p' "$tmp/serve.log" | head -n1)
[ -n "$primary" ] || fail "no 'listening' line with the primary's pid in the service log"
kill -TERM "$primary"
status=0
timeout 30 tail --pid="$serve_pid" -f /dev/null || fail "the service did not stop within 30 s of SIGTERM"
wait "$serve_pid" || status=$?
serve_pid=""
[ "$status" = 0 ] || { tail -5 "$tmp/serve.log" >&2; fail "the service exited $status after SIGTERM"; }
say "SIGTERM: the service stopped, exit 0"
writable=$(buildah run --isolation chroot "$ctr" -- find /app -writable -print -quit)
[ -z "$writable" ] || fail "the image's user can write to $writable"
merged=$(buildah mount "$ctr")
upper="$(dirname "$merged")/diff"
if [ -d "$upper" ]; then
  written=$(find "$upper" -mindepth 1 ! -type d | head -n 5)
  buildah umount "$ctr" >/dev/null
  [ -z "$written" ] || fail "the service wrote to the root file system: ${written//$upper/}"
  say "root file system untouched (overlay upper layer holds no file): a read-only root works"
else
  buildah umount "$ctr" >/dev/null
  say "read-only check SKIPPED: podman's storage driver is not overlay"
fi

say "timings: stand-in base ${t_base} s, podman build ${t_build} s, whole script $(( $(date +%s) - started )) s"
say "image size $(awk -v b="$image_bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }') (podman image inspect .Size)"
echo "test-image: passed"
