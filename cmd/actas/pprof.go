package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"slices"
)

// ACTAS_PPROF_ADDR, when set for `actas serve`, serves net/http/pprof on
// that address, for profiling under load (see docs/performance.md). It
// is refused unless the address is on the loopback interface, and it is
// off by default: profiles reveal internals and cost CPU.
func init() {
	addr := os.Getenv("ACTAS_PPROF_ADDR")
	if addr == "" || !slices.Contains(os.Args, "serve") {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		os.Stderr.WriteString("actas: ACTAS_PPROF_ADDR must be a loopback address such as 127.0.0.1:6060; pprof not started\n")
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() { _ = http.ListenAndServe(addr, mux) }()
}
