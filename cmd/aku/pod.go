package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/health"
	"github.com/aku-project/aku/replication"
)

// runPod runs aku -p start|end|clean (spec §6–§7): the original's banner
// lines around the run, log lines in between, all on stdout as the original
// prints them. With --dry-run it prints the plan instead and changes
// nothing.
func runPod(ctx context.Context, o *options) error {
	action, err := podlife.ParseAction(o.pod)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	in, err := o.podInput(action)
	if err != nil {
		return err
	}
	return podRun(ctx, o.stdout, in, o.dryRun)
}

// podRun wraps podlife.Run in the original's banners (spec §9). A dry run
// prints no banners: it runs nothing.
func podRun(ctx context.Context, stdout io.Writer, in podlife.Input, dryRun bool) error {
	if dryRun {
		_, err := podlife.Run(ctx, in)
		return err
	}
	fmt.Fprintf(stdout, "AKU started with %s option.\n", strings.ToUpper(string(in.Action)))
	_, err := podlife.Run(ctx, in)
	if err != nil {
		fmt.Fprintln(stdout, "AKU failed to run.")
		return err
	}
	fmt.Fprintln(stdout, "AKU run successfully.")
	return nil
}

// podInput builds the run's input from the configuration and environment.
// A start keeps its progress file for the probes (health.Watcher); where no
// read-only sessions can be derived (an AKU_CONNECTION_STRING without
// PRIVILEGE=SYSDBA and no AKU_MONITOR_CONNECTION_STRING), the watch of a
// SYNC or FLUSH is left out and the start runs all the same.
func (o *options) podInput(action podlife.Action) (podlife.Input, error) {
	cfg, err := o.loadConfig()
	if err != nil {
		return podlife.Input{}, err
	}
	id, err := o.identity(cfg)
	if err != nil {
		return podlife.Input{}, err
	}
	dialer, err := o.sysdbaDialer(cfg)
	if err != nil {
		return podlife.Input{}, err
	}
	watch := &health.Watcher{Path: health.ProgressPath(o.env.MarkerPath)}
	if d, err := o.monitorDialer(cfg); err == nil {
		watch.Dialer = d
	}
	return podlife.Input{
		Action:     action,
		Config:     cfg,
		Identity:   id,
		Connector:  podlife.DialerConnector{Dialer: dialer},
		MarkerPath: o.env.MarkerPath,
		DryRun:     o.dryRun,
		PlanOutput: o.stdout,
		Logger:     newLogger(o.stdout, o.logFormat),
		Progress:   watch,
	}, nil
}

// connectionTemplate is AKU_CONNECTION_STRING from the environment, else
// from aku.conf, else the Altibase ODBC default (spec §12).
func connectionTemplate(env environment, cfg *conf.Config) string {
	switch {
	case env.ConnectionStringOK && env.ConnectionString != "":
		return env.ConnectionString
	case cfg.ConnectionString != "":
		return cfg.ConnectionString
	default:
		return replication.DefaultTemplate(env.AltibaseHome)
	}
}
