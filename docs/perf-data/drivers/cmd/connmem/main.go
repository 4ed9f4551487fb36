// Command connmem measures what a driver's connections cost in memory:
// it opens n stores (a writer and a reader connection each, as in
// drvbench.Open) on a seeded database, reads every session through each
// reader (filling its page cache, SQLite's default 2 MiB), and prints the
// process's resident set before and after, its peak, and the Go heap.
//
//	connmem -driver ncruces-direct -db /tmp/seed.db -n 4
//
// With -seed it writes the seed database first, then exits.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"

	"drvbench"
)

func main() {
	driver := flag.String("driver", "modernc-sql", "driver: "+strings.Join(drvbench.Drivers, ", "))
	db := flag.String("db", "", "seeded database file (copied, not changed)")
	seed := flag.Bool("seed", false, "write the seed database at -db and exit")
	n := flag.Int("n", 4, "stores to open (two connections each)")
	flag.Parse()
	if *seed {
		if err := drvbench.Seed(*db); err != nil {
			fail(err)
		}
		return
	}
	path := *db + "." + *driver
	if err := drvbench.CopyFile(path, *db); err != nil {
		fail(err)
	}
	defer os.Remove(path)
	runtime.GC()
	before := status("VmRSS")
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	stores := make([]drvbench.Store, *n)
	for i := range stores {
		s, err := drvbench.Open(*driver, path)
		if err != nil {
			fail(err)
		}
		stores[i] = s
		var (
			rt drvbench.RefreshToken
			x  drvbench.Session
		)
		for j := range drvbench.NumSessions {
			if err := s.SessionByRefresh(drvbench.SeedHash(j), &rt, &x); err != nil {
				fail(err)
			}
		}
	}
	runtime.GC()
	after := status("VmRSS")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("driver=%s stores=%d conns=%d rss_before_kib=%d rss_after_kib=%d rss_per_conn_kib=%d peak_rss_kib=%d go_sys_delta_kib=%d go_heap_inuse_delta_kib=%d\n",
		*driver, *n, 2**n, before, after, (after-before)/int64(2**n), status("VmHWM"),
		int64(ms.Sys-ms0.Sys)/1024, (int64(ms.HeapInuse)-int64(ms0.HeapInuse))/1024)
	for _, s := range stores {
		_ = s.Close()
	}
}

// status returns a field of /proc/self/status in KiB.
func status(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fail(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			var kib int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kib)
			return kib
		}
	}
	return 0
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "connmem:", err)
	os.Exit(1)
}
