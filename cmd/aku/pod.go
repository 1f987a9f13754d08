package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/health"
	"github.com/aku-project/aku/replication"
)

// runPod runs aku -p start|end|clean|release: the original's banners
// around the run, log lines in between, all on stdout as the original
// prints them (or as JSON records). With --dry-run it prints the plan
// instead and changes nothing.
func runPod(ctx context.Context, o *options, action podlife.Action) error {
	in, err := o.podInput(action)
	if err != nil {
		return err
	}
	in, k := o.kubeInput(ctx, in)
	if o.commit != nil && !o.commit() {
		return ctx.Err() // a signal came while reading the configuration
	}
	return podRun(ctx, o.console, in, o.dryRun, k)
}

// kubeInput adds to in what Kubernetes says of this pod (whether it is
// leaving the set) and returns what the run publishes to it.
func (o *options) kubeInput(ctx context.Context, in podlife.Input) (podlife.Input, *kubeRun) {
	k := o.kubeFor(in)
	in.Leaving = k.leaving(ctx)
	return in, k
}

// podRun wraps podlife.Run in the original's banners (docs/behaviour.md,
// "Log lines"), with what the run publishes to Kubernetes (k, nil for
// nothing) before it and before its last banner. A dry run
// prints no banners, it runs nothing: it prints the plan.
func podRun(ctx context.Context, c *console, in podlife.Input, dryRun bool, k *kubeRun) error {
	if dryRun {
		plan, err := podlife.Run(ctx, in)
		if err != nil {
			return err
		}
		if err := c.plan(plan); err != nil {
			return fmt.Errorf("printing the plan: %w", err)
		}
		return nil
	}
	c.banner(fmt.Sprintf("AKU started with %s option.", strings.ToUpper(string(in.Action))), false)
	k.beforeRun(ctx)
	plan, err := podlife.Run(ctx, in)
	k.afterRun(ctx, plan, err)
	if err != nil {
		c.banner("AKU failed to run.", true)
		return err
	}
	c.banner("AKU run successfully.", false)
	return nil
}

// podInput builds the run's input from the configuration and environment.
// A start keeps its progress file for the probes (health.Watcher); where no
// read-only sessions can be derived (an AKU_CONNECTION_STRING without
// PRIVILEGE=SYSDBA and no AKU_MONITOR_CONNECTION_STRING), the watch of a
// SYNC or FLUSH is left out and the start runs all the same.
func (o *options) podInput(action podlife.Action) (podlife.Input, error) {
	// The time starts when aku does: the preStop hook runs when the grace
	// period begins.
	deadline, err := o.endDeadline(action, time.Now())
	if err != nil {
		return podlife.Input{}, err
	}
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
		Logger:     o.console.log,
		Progress:   watch,
		Release:    o.release,
		Deadline:   deadline,
	}, nil
}

// connectionTemplate is AKU_CONNECTION_STRING from the environment, else
// from aku.conf, else the Altibase ODBC default (docs/behaviour.md,
// "Extensions").
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
