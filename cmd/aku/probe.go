package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aku-project/aku/podlife/health"
)

// newProbeCommand is aku probe (docs/status.md, "aku probe"): the exec
// probes of the manifests. Each prints one line and exits 0 (pass) or 1
// (fail). startup and live read files only; ready and role ask this pod's
// server, through an ordinary session.
func newProbeCommand(o *options) *cobra.Command {
	probe := &cobra.Command{
		Use:   "probe startup|live|ready|role ROLE",
		Short: "Kubernetes probes: one line, exit 0 (pass) or 1 (fail)",
		Long: `aku probe runs one exec probe and prints one line saying why it passes or fails;
it exits 0 when it passes and 1 when it does not. See docs/status.md.

  startup  the start completed (the marker), or a start runs and makes progress
  live     fails only while a start is stuck (no progress) or was killed
  ready    the marker, this server open to users, every pair toward a running
           peer started with its sender running [--max-gap BYTES]
  role     master | slave | writable, for role-aware routing`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("%w: aku probe needs one of startup, live, ready or role", errUsage)
		},
	}
	subcommandHelp(probe)
	probe.PersistentFlags().StringVar(&o.configPath, "config", "", "configuration file (default $ALTIBASE_HOME/conf/aku.conf)")

	fileProbe := func(name, short string, check func(markerPath string, now time.Time) health.Verdict) *cobra.Command {
		return &cobra.Command{
			Use: name, Short: short, Args: noArgs,
			RunE: func(*cobra.Command, []string) error {
				return o.verdict(check(o.env.MarkerPath, time.Now()))
			},
		}
	}
	var maxGap int64
	ready := &cobra.Command{
		Use: "ready", Short: "pass when this pod takes traffic: open and replicating", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.serverProbe(cmd.Context(), "not ready", func(ctx context.Context, in health.Input) health.Verdict {
				return health.Ready(ctx, in, maxGap)
			})
		},
	}
	ready.Flags().Int64Var(&maxGap, "max-gap", -1, "also require every sender's gap to be at most BYTES (a gap that cannot be read fails)")
	role := &cobra.Command{
		Use: "role master|slave|writable", Short: "pass when this pod has the role", ValidArgs: []string{"master", "slave", "writable"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("%w: aku probe role needs one of master, slave or writable", errUsage)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.serverProbe(cmd.Context(), "not "+args[0], func(ctx context.Context, in health.Input) health.Verdict {
				return health.Role(ctx, in, args[0], maxGap)
			})
		},
	}
	role.Flags().Int64Var(&maxGap, "max-gap", -1, "with writable: as for ready")
	for _, c := range []*cobra.Command{
		fileProbe("startup", "pass when the start completed, or runs and makes progress", health.Startup),
		fileProbe("live", "fail only while a start is stuck or was killed", health.Live),
		ready, role,
	} {
		subcommandHelp(c)
		probe.AddCommand(c)
	}
	return probe
}

// serverProbe runs a probe that reads this pod's server; a failure before
// it can ask (aku.conf, the pod name, the driver) fails the probe with
// what prefix says.
func (o *options) serverProbe(ctx context.Context, prefix string, check func(context.Context, health.Input) health.Verdict) error {
	in, err := o.healthInput(false)
	if err != nil {
		return &probeError{line: prefix + ": " + strings.Join(strings.Fields(err.Error()), " ")}
	}
	return o.verdict(check(ctx, in))
}

// verdict prints a passing probe's line; a failing one's is the error
// (printed once, on stderr, by run).
func (o *options) verdict(v health.Verdict) error {
	if !v.OK {
		return &probeError{line: v.Line}
	}
	fmt.Fprintln(o.stdout, v.Line)
	return nil
}
