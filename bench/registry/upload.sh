#!/usr/bin/env bash
# upload.sh PORT REPO FILE... : uploads each FILE (named by its sha256 hex) as a blob of REPO the way a simple client
# does: POST /v2/REPO/blobs/uploads/, then one monolithic PUT of the whole body to the Location with ?digest=. curl
# streams the file from the page cache, so the client costs little next to the server, which hashes and stores it.
set -euo pipefail
port=$1 repo=$2
shift 2
# The Location header is picked out with bash builtins: a process per upload costs more client CPU than its bytes do.
for file in "$@"; do
  hex=${file##*/} loc=""
  while IFS= read -r line; do
    line=${line%$'\r'}
    case ${line,,} in location:*) loc=${line#*: } ;; esac
  done < <(curl -fsS --max-time 60 -D - -o /dev/null -X POST "http://127.0.0.1:$port/v2/$repo/blobs/uploads/")
  case $loc in http*) ;; /*) loc="http://127.0.0.1:$port$loc" ;; *) echo "upload.sh: no Location from POST" >&2; exit 1 ;; esac
  case $loc in *\?*) loc="$loc&" ;; *) loc="$loc?" ;; esac
  curl -fsS --max-time 600 -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$file" "${loc}digest=sha256:$hex"
done
