#!/usr/bin/env bash
# The README's main job on a fresh Debian 12 machine (root, offline): build dbuild, start its registry on
# 127.0.0.1, build the example image and push it, then pull it back and run it with a real client.
set -euo pipefail
cd "$(dirname "$0")"
bash testdata/ci/setup.sh
. testdata/ci/env.sh
work=$(mktemp -d /var/tmp/dbuild-run.XXXXXX)
cleanup() { [ -n "${regpid:-}" ] && kill "$regpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "== building dbuild"
dotnet publish src/Dbuild.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$work/bin" --nologo -v quiet
dbuild="$work/bin/dbuild"
"$dbuild" --version

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
reg=127.0.0.1:$port
echo "== starting dbuild registry serve on $reg"
REGISTRY_HTTP_ADDR=$reg REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$work/registry" "$dbuild" registry serve >"$work/registry.log" 2>&1 &
regpid=$!
for _ in $(seq 1 100); do curl -fs "http://$reg/v2/" >/dev/null && break; sleep 0.1; done
curl -fsS "http://$reg/v2/" >/dev/null

export DOCKER_HOST=$DBUILD_TEST_DOCKER_HOST
root="$work/state"
echo "== building the busybox base image with dbuild (FROM scratch, offline from busybox-static) and pushing it"
bash testdata/images/make-busybox-context.sh "$work/busybox-context" >/dev/null
"$dbuild" --root "$root" build --progress plain -t "$reg/base/busybox:1" --push "$work/busybox-context"
echo "== building Dockerfile.examples/hello-multistage and pushing it"
"$dbuild" --root "$root" build --progress plain --build-arg BASE="$reg/base/busybox:1" -t "$reg/examples/hello:1" --push Dockerfile.examples/hello-multistage

echo "== pulling it back with docker and running it"
/usr/bin/docker pull "$reg/examples/hello:1"
/usr/bin/docker run --rm --network none "$reg/examples/hello:1"
/usr/bin/docker image inspect --format '{{.Id}} {{.RepoDigests}}' "$reg/examples/hello:1"
/usr/bin/docker rmi -f "$reg/examples/hello:1" >/dev/null
echo "== done"
