# Two "machines" on one host: two network namespaces joined by a veth pair, one rank in each,
# talking TCP only (no shared memory), started through an `ip netns exec` launcher given to
# mpirun as its rsh agent: the multi-host path. The result must be the bits of the
# shared-memory np 2 run. Needs root (CI runs as root) and iproute2 (scripts/setup.sh); fails,
# never skips, without them. The namespaces are removed on exit, also on failure.
source "$(dirname "$0")/lib.sh.inc"
source "$ROOT/tests/cli/resume_common.sh.inc"
source "$ROOT/tests/cli/mpi_common.sh.inc"
command -v ip >/dev/null || fail "ip is missing (scripts/setup.sh installs iproute2)"

ns_a=nettrain-a-$$
ns_b=nettrain-b-$$
cleanup() {
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true  # the veth pair goes with its namespaces
  rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$ns_a" || fail "cannot create a network namespace (root and CAP_SYS_ADMIN needed)"
ip netns add "$ns_b"
ip link add "nva$$" type veth peer name "nvb$$"
ip link set "nva$$" netns "$ns_a"
ip link set "nvb$$" netns "$ns_b"
ip -n "$ns_a" addr add 10.77.0.1/24 dev "nva$$"
ip -n "$ns_b" addr add 10.77.0.2/24 dev "nvb$$"
for ns in "$ns_a" "$ns_b"; do
  ip -n "$ns" link set lo up
done
ip -n "$ns_a" link set "nva$$" up
ip -n "$ns_b" link set "nvb$$" up

# mpirun starts orted on a remote host as `AGENT HOST orted ARGS...`: run it in HOST's namespace.
cat >"$WORK/launch.sh" <<SH
#!/bin/sh
host=\$1
shift
case \$host in
  10.77.0.1) ns=$ns_a ;;
  10.77.0.2) ns=$ns_b ;;
  *) echo "launch.sh: unknown host \$host" >&2; exit 1 ;;
esac
echo "\$host \$*" >>"$WORK/launched"
exec ip netns exec "\$ns" sh -c "\$*"
SH
chmod +x "$WORK/launch.sh"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' >"$WORK/hosts"

mlp_config "$WORK/mlp.json" 3
run 0 mpi 2 train "$WORK/mlp.json" --out "$WORK/shm" --threads 1 -q
# mpirun runs in the first namespace (its address 10.77.0.1 is local there): rank 0 starts
# there, rank 1 through the launcher in the second.
run 0 ip netns exec "$ns_a" mpirun -np 2 --hostfile "$WORK/hosts" --mca plm_rsh_agent "$WORK/launch.sh" \
  --mca btl self,tcp --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
  "$NETTRAIN" train "$WORK/mlp.json" --out "$WORK/tcp" --threads 1 -q
grep -q "^10.77.0.2 .*orted" "$WORK/launched" || fail "rank 1 was not started through the launcher"
same_run "$WORK/shm" "$WORK/tcp" "np 2 over TCP between namespaces vs shared memory"
python3 -c "import json,sys; sys.exit(0 if json.load(open('$WORK/tcp/summary.json'))['processes'] == 2 else 1)" ||
  fail "tcp/summary.json: processes 2"
echo ok
