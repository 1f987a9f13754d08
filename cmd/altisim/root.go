package main

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes of altisim.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// lookupEnv is os.LookupEnv, injectable for tests.
type lookupEnv func(string) (string, bool)

// usageError marks errors in the command line.
type usageError struct{ error }

// run executes altisim with args and returns its exit code. SIGTERM and
// SIGINT end `serve` gracefully.
func run(args []string, stdout, stderr io.Writer, env lookupEnv) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "altisim",
		Short:         "A simulated Altibase server reached over the PostgreSQL wire protocol (test infrastructure)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newServeCommand(stdout, env), newFaultCommand(stdout))
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "altisim: %v\n", err)
	if _, ok := err.(usageError); ok {
		return exitUsage
	}
	return exitError
}
