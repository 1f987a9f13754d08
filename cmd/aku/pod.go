package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
)

// runPod runs aku -p start|end|clean: the original's banners
// around the run, log lines in between, all on stdout as the original
// prints them (or as JSON records). With --dry-run it prints the plan
// instead and changes nothing.
func runPod(ctx context.Context, o *options, action podlife.Action) error {
	in, err := o.podInput(action)
	if err != nil {
		return err
	}
	if o.commit != nil && !o.commit() {
		return ctx.Err() // a signal came while reading the configuration
	}
	return podRun(ctx, o.console, in, o.dryRun)
}

// podRun wraps podlife.Run in the original's banners (docs/behaviour.md,
// "Log lines"). A dry run
// prints no banners, it runs nothing: it prints the plan.
func podRun(ctx context.Context, c *console, in podlife.Input, dryRun bool) error {
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
	_, err := podlife.Run(ctx, in)
	if err != nil {
		c.banner("AKU failed to run.", true)
		return err
	}
	c.banner("AKU run successfully.", false)
	return nil
}

// podInput builds the run's input from the configuration and environment.
func (o *options) podInput(action podlife.Action) (podlife.Input, error) {
	cfg, err := o.loadConfig()
	if err != nil {
		return podlife.Input{}, err
	}
	id, err := podlife.Identify(o.env.PodName, cfg)
	if err != nil {
		if o.env.HostnameErr != nil {
			return podlife.Input{}, fmt.Errorf("reading the host name (POD_NAME is not set): %v: %w", o.env.HostnameErr, err)
		}
		return podlife.Input{}, err
	}
	template := connectionTemplate(o.env, cfg)
	if o.env.AltibaseHome == "" && template == replication.DefaultTemplate("") {
		// With --config aku.conf is found without ALTIBASE_HOME, but the
		// default driver path would then be relative (docs/behaviour.md,
		// "Files and environment").
		return podlife.Input{}, fmt.Errorf("%w: ALTIBASE_HOME is not set: the default connection string uses the Altibase ODBC driver in $ALTIBASE_HOME/lib (set ALTIBASE_HOME, or AKU_CONNECTION_STRING)", errEnvironment)
	}
	if o.sqlDriver == "" {
		return podlife.Input{}, fmt.Errorf("%w: this aku binary was built without ODBC support (cgo off or -tags noodbc), so it cannot reach Altibase; use a build with cgo", errEnvironment)
	}
	dialer := &replication.Dialer{
		Driver:   o.sqlDriver,
		Template: template,
		Port:     cfg.PortNo,
		User:     cfg.SysUser,
		Password: cfg.SysPassword,
		Diagnose: odbcDiagnostics,
		Policy: replication.Policy{
			QueryTimeout: cfg.QueryTimeout,
			RetryCount:   cfg.QueryRetryCount,
			RetryDelay:   cfg.QueryRetryDelay,
		},
	}
	return podlife.Input{
		Action:     action,
		Config:     cfg,
		Identity:   id,
		Connector:  podlife.DialerConnector{Dialer: dialer},
		MarkerPath: o.env.MarkerPath,
		DryRun:     o.dryRun,
		Logger:     o.console.log,
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
