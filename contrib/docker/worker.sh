#!/bin/sh
# worker.sh PORT: the example container's worker; counts a tick in redis
# each second and says so now and then. Exits when redis is gone, so vigil
# restarts it (restart = always) once redis is back.
port=${1:?usage: worker.sh PORT}
n=0
while ticks=$(redis-cli -p "$port" incr ticks); do
	case $ticks in
	''|*[!0-9]*) echo "worker: redis answered '$ticks'" >&2; exit 1 ;;
	esac
	n=$((n + 1))
	[ $((n % 10)) = 1 ] && echo "worker: $ticks ticks"
	sleep 1
done
echo "worker: redis is gone" >&2
exit 1
