#!/bin/sh
# redis.sh PORT REQUESTS CLIENTS VALUE_BYTES -- heapbench's `redis` program:
# redis-server on 127.0.0.1:PORT (no persistence), driven by redis-benchmark
# over loopback with a bounded number of requests, then shut down by this
# script. Every process here runs under the cell's preloaded allocator; the
# server is the one that matters. The harness runs it in a process group of
# its own and kills the group on a timeout, so no server outlives its cell.
set -u
port=$1 requests=$2 clients=$3 bytes=$4
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir . --logfile server.log &
server=$!
tries=0
until redis-cli -p "$port" ping > /dev/null 2>&1; do
    tries=$((tries + 1))
    if [ $tries -gt 500 ] || ! kill -0 $server 2> /dev/null; then
        echo "redis-server did not answer on port $port: $(tail -n 1 server.log 2> /dev/null)" >&2
        kill $server 2> /dev/null
        exit 1
    fi
    sleep 0.01
done
redis-benchmark -p "$port" -n "$requests" -c "$clients" -d "$bytes" -r 100000 -t set,get,lpush,lpop,sadd,hset --csv
status=$?
echo "dbsize=$(redis-cli -p "$port" dbsize)"
redis-cli -p "$port" shutdown nosave > /dev/null 2>&1
wait $server
exit $status
