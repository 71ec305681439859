-- wrk script for bench/registry/load.sh: every connection of a thread takes the next request of one cycle of GETs.
--
--   wrk -t2 -c64 -d10s --latency --timeout 60s -s cycle.lua http://127.0.0.1:PORT -- PATH...
--
-- A PATH with "/manifests/" in it is sent with the Accept header a docker or containerd pull sends; the others (blobs)
-- are plain GETs. Each wrk thread has its own copy of this script, so the cycle position is per thread, shared by its
-- connections: the mix of requests is exactly the cycle's, but one connection does not walk one cycle in order.
-- No response() function: defining one makes wrk buffer every body, which would cost more than the servers do.
-- done() prints one machine-readable line, "WRK key=value ...", that load.sh reads.

local accept = table.concat({
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
}, ", ")

local requests = {}
local position = 0

function init(args)
  for _, path in ipairs(args) do
    local headers = {}
    if string.find(path, "/manifests/", 1, true) then headers["Accept"] = accept end
    requests[#requests + 1] = wrk.format("GET", path, headers)
  end
  if #requests == 0 then error("cycle.lua: give the paths to GET after --") end
end

function request()
  position = position % #requests + 1
  return requests[position]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d bytes=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, summary.bytes, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
