package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
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
	if o.commit != nil && !o.commit() {
		return ctx.Err() // a signal came while reading the configuration
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
		// spec §2: with --config aku.conf is found without ALTIBASE_HOME,
		// but the default driver path would then be relative.
		return podlife.Input{}, fmt.Errorf("%w: ALTIBASE_HOME is not set: the default connection string uses the Altibase ODBC driver in $ALTIBASE_HOME/lib (set ALTIBASE_HOME, or AKU_CONNECTION_STRING)", errEnvironment)
	}
	if odbcDriverName == "" {
		return podlife.Input{}, fmt.Errorf("%w: this aku binary was built without ODBC support (cgo off or -tags noodbc), so it cannot reach Altibase; use a build with cgo", errEnvironment)
	}
	dialer := &replication.Dialer{
		Driver:   odbcDriverName,
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
		PlanOutput: o.stdout,
		Logger:     newLogger(o.stdout, o.logFormat),
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
