#!/bin/sh
# Six interleaved rounds: each round runs every scenario once per driver
# (drivers one after the other), so that a slow moment of the shared
# machine hits every driver alike. Fixed iteration counts keep a round
# near 30 s on a 2-core machine. Output: bench.txt.
set -e
cd "$(dirname "$0")"
go test -c -o drvbench.test .
: > bench.txt
for i in 1 2 3 4 5 6; do
	./drvbench.test -test.run '^$' -test.bench 'SessionByRefresh|User' -test.benchtime 20000x >> bench.txt
	./drvbench.test -test.run '^$' -test.bench 'Rotate|Revoke|Open' -test.benchtime 1000x >> bench.txt
done
rm -f drvbench.test
