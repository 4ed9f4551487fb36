// Command actas is the actas token service and its administration tool.
// See the README and docs/ for usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		// A SIGHUP (logrotate) that arrives before serve is ready to
		// reload must not kill it; serve takes SIGHUP over once it is.
		signal.Ignore(syscall.SIGHUP)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first SIGTERM or interrupt, a second one ends the
		// process at once instead of waiting for the drain.
		<-ctx.Done()
		stop()
	}()
	m := NewMain()
	os.Exit(m.Run(ctx, os.Args[1:]))
}
