package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/aku-project/aku/podlife/health"
)

// newStatusCommand is aku status (docs/status.md): every server and pair of
// the StatefulSet as this pod sees them, read through ordinary sessions,
// and what is wrong, each finding with its fix.
func newStatusCommand(o *options) *cobra.Command {
	var output string
	var sysdba bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "show every pod and pair of the StatefulSet, and what is wrong",
		Long: `aku status reads every server of the StatefulSet in parallel through ordinary
sessions, which never take a server's one SYSDBA session, and prints each
server, each replication pair (both sides) and the findings with the command
that fixes each. Exit status: 0 healthy, 19 degraded (findings), 20 cannot tell
(this pod's own server could not be read). See docs/status.md.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("%w: --output %q: want text or json", errUsage, output)
			}
			return runStatus(cmd.Context(), o, output, sysdba)
		},
	}
	subcommandHelp(cmd)
	f := cmd.Flags()
	f.StringVar(&o.configPath, "config", "", "configuration file (default $ALTIBASE_HOME/conf/aku.conf)")
	f.StringVar(&output, "output", "text", "output format, text or json")
	f.BoolVar(&sysdba, "sysdba", false, "read a server still in ADMIN_MODE = 1 as SYSDBA (never a server open to users)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// runStatus observes the mesh, prints the Report, and returns the verdict
// as an error when it is not healthy.
func runStatus(ctx context.Context, o *options, output string, sysdba bool) error {
	in, err := o.healthInput(sysdba)
	if err != nil {
		return err
	}
	r := health.Assess(in.Config, in.Identity, health.Observe(ctx, in))
	if output == "json" {
		enc := json.NewEncoder(o.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = r.WriteText(o.stdout)
	}
	if err != nil {
		return fmt.Errorf("printing the status: %w", err)
	}
	switch r.Health {
	case health.Degraded:
		if len(r.Findings) == 1 {
			return fmt.Errorf("%w: 1 finding", errDegraded)
		}
		return fmt.Errorf("%w: %d findings", errDegraded, len(r.Findings))
	case health.Unknown:
		return fmt.Errorf("%w: this pod's own server %s is %s", errCannotTell, r.Servers[r.Ordinal].Host, r.Servers[r.Ordinal].State)
	}
	return nil
}

// healthInput builds the input of status and the probes that read a
// server: the configuration, this pod, the read-only Dialer and, with
// sysdba, the SYSDBA one.
func (o *options) healthInput(sysdba bool) (health.Input, error) {
	cfg, err := o.loadConfig()
	if err != nil {
		return health.Input{}, err
	}
	id, err := o.identity(cfg)
	if err != nil {
		return health.Input{}, err
	}
	in := health.Input{Config: cfg, Identity: id, MarkerPath: o.env.MarkerPath, Resolver: o.resolver}
	if in.Dialer, err = o.monitorDialer(cfg); err != nil {
		return health.Input{}, err
	}
	if sysdba {
		if in.Sysdba, err = o.sysdbaDialer(cfg); err != nil {
			return health.Input{}, err
		}
	}
	return in, nil
}
