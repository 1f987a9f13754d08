package e2e

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// watchSignals closes every live cluster when the process gets SIGINT or
// SIGTERM (Ctrl-C during a test or the demo), then exits: t.Cleanup would
// not run.
func watchSignals() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-ch
		fmt.Fprintf(os.Stderr, "\n%v: removing the simulated StatefulSet (pods, DNS, network)\n", sig)
		CloseAll()
		liveMu.Lock()
		for _, dir := range binDirs {
			os.RemoveAll(dir)
		}
		liveMu.Unlock()
		os.Exit(130)
	}()
}
