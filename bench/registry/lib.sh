# Shared by bench/registry/*.sh (sourced): ports, clocks and CPU accounting of the servers being measured.
hz=$(getconf CLK_TCK)
now() { date +%s.%N; }
# cpu_seconds PID: user + system CPU seconds the process has used so far
cpu_seconds() { awk -v hz="$hz" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
# free_port: a 127.0.0.1 port nothing listens on (bounded tries)
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(shuf -i 20000-60000 -n 1)
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "bench: no free port" >&2; exit 1
}
