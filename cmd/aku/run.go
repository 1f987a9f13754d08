package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/manager"
)

// runFlags are aku run's options.
type runFlags struct {
	listen        string
	checkInterval time.Duration
	gracePeriod   time.Duration
	stopReserve   time.Duration
	serverWait    time.Duration
	stopCommand   string
	logFormat     string
}

// newRunCommand is aku run (docs/run.md): the container's entry point,
// which starts the server, runs the start lifecycle with retries, serves
// the probes, this pod's status and metrics over HTTP, and runs the end
// lifecycle at SIGTERM before it stops the server.
func newRunCommand(o *options) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags] [-- SERVER START COMMAND...]",
		Short: "the pod's entry point: the server, aku -p start and end, HTTP probes and metrics",
		Long: `aku run is a container's entry point. It starts the server command given after
-- (none: it runs next to a server started another way), waits until the
server answers, runs aku -p start, retrying what another try can cure, and
serves /livez, /startupz, /readyz, /role/ROLE, /status and /metrics on
--listen. At SIGTERM or SIGINT it runs aku -p end within the grace period,
then stops the server (--stop-command, else SIGTERM to the server command).
Exit status: 0, the end's code when the end failed, 21 the server command
failed or the server died, 22 the server did not stop in time.
See docs/run.md.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && cmd.ArgsLenAtDash() != 0 {
				return fmt.Errorf("%w: aku run: unexpected argument %q (the server command follows --)", errUsage, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.fromEnvironment(cmd, o.env); err != nil {
				return err
			}
			if err := checkFormat("--log-format", f.logFormat); err != nil {
				return err
			}
			o.console = newConsole(o.stdout, f.logFormat == "json")
			return runManager(cmd.Context(), o, f, args)
		},
	}
	subcommandHelp(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.configPath, "config", "", "configuration file (default $ALTIBASE_HOME/conf/aku.conf)")
	fl.StringVar(&f.listen, "listen", manager.DefaultListen, `HTTP address of the probes and metrics, "" for none (env AKU_LISTEN)`)
	fl.DurationVar(&f.checkInterval, "check-interval", manager.DefaultCheckInterval, "how often the cached check reads the servers")
	fl.DurationVar(&f.gracePeriod, "grace-period", manager.DefaultGracePeriod, "the pod's terminationGracePeriodSeconds (env AKU_GRACE_PERIOD)")
	fl.DurationVar(&f.stopReserve, "stop-reserve", manager.DefaultStopReserve, "the part of the grace period kept for stopping the server after the end")
	fl.DurationVar(&f.serverWait, "server-wait", manager.DefaultServerWait, "how long to wait for the server to answer")
	fl.StringVar(&f.stopCommand, "stop-command", "", `shell command that stops the server (e.g. "server stop"); default: SIGTERM to the server command`)
	fl.StringVar(&f.logFormat, "log-format", "text", "text (the original's layout) or json (docs/json.md)")
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// fromEnvironment takes AKU_LISTEN and AKU_GRACE_PERIOD where the flags
// were not given.
func (f *runFlags) fromEnvironment(cmd *cobra.Command, env environment) error {
	if !cmd.Flags().Changed("listen") && env.ListenSet {
		f.listen = env.Listen
	}
	if !cmd.Flags().Changed("grace-period") && env.GracePeriodSet {
		d, err := time.ParseDuration(env.GracePeriod)
		if err != nil {
			return fmt.Errorf("%w: AKU_GRACE_PERIOD %q: want a duration such as 120s", errUsage, env.GracePeriod)
		}
		f.gracePeriod = d
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--grace-period", f.gracePeriod}, {"--check-interval", f.checkInterval}, {"--stop-reserve", f.stopReserve}, {"--server-wait", f.serverWait}} {
		if d.v <= 0 {
			return fmt.Errorf("%w: %s %s: want a duration above 0", errUsage, d.name, d.v)
		}
	}
	if f.stopReserve >= f.gracePeriod {
		return fmt.Errorf("%w: --stop-reserve %s must be shorter than --grace-period %s", errUsage, f.stopReserve, f.gracePeriod)
	}
	return nil
}

// runManager runs aku run: signals from here on only cancel ctx, which
// the manager answers with the end.
func runManager(ctx context.Context, o *options, f runFlags, command []string) error {
	in, err := o.healthInput(false)
	if err != nil {
		return err
	}
	if o.commit != nil && !o.commit() {
		return ctx.Err()
	}
	cfg := manager.Config{
		Health: in,
		Lifecycle: func(ctx context.Context, action podlife.Action, deadline time.Time, release []int) error {
			in, err := o.podInput(action)
			if err != nil {
				return err
			}
			// The grace period's deadline, unless AKU_END_DEADLINE is
			// sooner.
			if !deadline.IsZero() && (in.Deadline.IsZero() || deadline.Before(in.Deadline)) {
				in.Deadline = deadline
			}
			in.Release = release
			in, k := o.kubeInput(ctx, in)
			return podRun(ctx, o.console, in, false, k)
		},
		Classify:      outcome,
		Log:           o.console.log,
		Command:       command,
		Stdout:        o.stdout,
		Stderr:        o.stderr,
		Listen:        f.listen,
		CheckInterval: f.checkInterval,
		GracePeriod:   f.gracePeriod,
		StopReserve:   f.stopReserve,
		ServerWait:    f.serverWait,
		StalePeerTTL:  in.Config.StalePeerTTL,
		Version:       version,
		Synced:        o.syncedPublisher(in.Config, in.Identity),
	}
	if o.console.json {
		// stdout carries JSON records only (docs/json.md).
		cfg.Stdout = o.stderr
	}
	if f.stopCommand != "" {
		cfg.StopCommand = []string{"/bin/sh", "-c", f.stopCommand}
	}
	m, err := manager.New(cfg, manager.Codes{
		ServerFailed: exitServerFailed, ServerNotStopped: exitServerStuck, Unreachable: exitUnreachable, Interrupted: exitInterrupted,
	})
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return m.Run(ctx)
}
