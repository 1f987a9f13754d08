package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife/health"
)

// options are the parsed command line plus the process environment.
type options struct {
	stdout, stderr io.Writer
	env            environment

	info         bool
	pod          string
	version      bool
	configPath   string // --config; default $ALTIBASE_HOME/conf/aku.conf
	showPassword bool   // -i --show-password
	output       string // -i --output text|json
	dryRun       bool   // -p ... --dry-run
	logFormat    string // -p ... --log-format text|json

	// sqlDriver is the database/sql driver aku connects with: the ODBC
	// one ("" in a build without it); tests use the simulator's.
	sqlDriver string
	// resolver looks the pods' names up for status and the probes; nil
	// is the system's.
	resolver health.Resolver
}

// podActions are the values -p accepts (spec §5).
var podActions = []string{"start", "end", "clean"}

// run executes aku with args and returns its exit code. Errors are printed
// once, here, to stderr.
func run(args []string, stdout, stderr io.Writer, env environment) int {
	// SIGTERM as well as SIGINT cancels the run rather than killing it, so
	// that a failed run still restores what it changed (podlife's guards,
	// e.g. REPLICATION_DDL_ENABLE) before aku exits.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return runWith(ctx, &options{stdout: stdout, stderr: stderr, env: env, sqlDriver: odbcDriverName}, args)
}

// runWith runs aku with the options' outputs, environment and SQL driver.
func runWith(ctx context.Context, o *options, args []string) int {
	stderr := o.stderr
	cmd := newRootCommand(o)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, conf.ErrInvalid) {
		// Configuration errors already read "file:line:col: message".
		fmt.Fprintln(stderr, err)
	} else {
		fmt.Fprintf(stderr, "aku: %v\n", err)
	}
	return exitCode(err)
}

func newRootCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:           "aku",
		Short:         "Altibase Kubernetes Utility: replication for an Altibase StatefulSet",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: unexpected argument %q (actions are given with -p, e.g. aku -p start)", errUsage, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.dispatch(cmd)
		},
	}
	cmd.SetOut(o.stdout)
	cmd.SetErr(o.stderr)
	f := cmd.Flags()
	f.BoolVarP(&o.version, "version", "v", false, "print version information")
	f.BoolVarP(&o.info, "info", "i", false, "print the parsed configuration")
	f.StringVarP(&o.pod, "pod", "p", "", "pod action: start, end or clean")
	f.StringVar(&o.configPath, "config", "", "configuration file (default $ALTIBASE_HOME/conf/aku.conf)")
	f.BoolVar(&o.showPassword, "show-password", false, "with -i: show the SYS password instead of masking it")
	f.StringVar(&o.output, "output", "text", "with -i: output format, text or json")
	f.BoolVar(&o.dryRun, "dry-run", false, "with -p: print the plan and change nothing")
	f.StringVar(&o.logFormat, "log-format", "text", "with -p: log format, text (the original's layout) or json")
	_ = cmd.RegisterFlagCompletionFunc("pod", cobra.FixedCompletions(podActions, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.AddCommand(newStatusCommand(o), newProbeCommand(o))

	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) { printHelp(c.OutOrStdout()) })
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		// spec §5: an unknown option prints the help screen.
		printHelp(c.ErrOrStderr())
		return fmt.Errorf("%w: %v", errUsage, err)
	})
	return cmd
}

// dispatch runs the one action the flags ask for.
func (o *options) dispatch(cmd *cobra.Command) error {
	ctx := cmd.Context()
	f := cmd.Flags()
	switch {
	case o.version:
		printVersion(o.stdout)
		return nil
	case o.info && f.Changed("pod"):
		return fmt.Errorf("%w: -i and -p cannot be used together", errUsage)
	case o.info:
		if o.output != "text" && o.output != "json" {
			return fmt.Errorf("%w: --output %q: want text or json", errUsage, o.output)
		}
		return runInfo(ctx, o)
	case f.Changed("pod"):
		if !isPodAction(o.pod) {
			return fmt.Errorf("%w: -p %q: want exactly one of %s", errUsage, o.pod, strings.Join(podActions, ", "))
		}
		if o.logFormat != "text" && o.logFormat != "json" {
			return fmt.Errorf("%w: --log-format %q: want text or json", errUsage, o.logFormat)
		}
		return runPod(ctx, o)
	default:
		// spec §5: no option prints only the help screen.
		printHelp(o.stderr)
		return fmt.Errorf("%w: no option given", errUsage)
	}
}

func isPodAction(s string) bool {
	for _, a := range podActions {
		if s == a {
			return true
		}
	}
	return false
}

// resolveConfigPath is --config, else $ALTIBASE_HOME/conf/aku.conf; the
// latter needs ALTIBASE_HOME (spec §2).
func (o *options) resolveConfigPath() (string, error) {
	if o.configPath != "" {
		return o.configPath, nil
	}
	if o.env.AltibaseHome == "" {
		return "", fmt.Errorf("%w: ALTIBASE_HOME is not set: aku reads $ALTIBASE_HOME/conf/aku.conf (or give --config)", errEnvironment)
	}
	return o.env.configPath(), nil
}

// loadConfig reads aku.conf (resolveConfigPath) with the environment's
// overrides, printing the warnings to stderr, for -i and -p alike.
func (o *options) loadConfig() (*conf.Config, error) {
	path, err := o.resolveConfigPath()
	if err != nil {
		return nil, err
	}
	cfg, warnings, err := conf.Load(path, o.env.overrides())
	for _, w := range warnings {
		fmt.Fprintln(o.stderr, w)
	}
	return cfg, err
}

const helpRule = "==============================================================================="

// printHelp prints the original's help screen (spec §5), with the action
// spelled as it works (end, not stop) and aku's additions below.
func printHelp(w io.Writer) {
	title := "Altibase Kubernetes Utility Help Screen"
	pad := (len(helpRule) - len(title)) / 2
	fmt.Fprintf(w, `%s
%s%s
%s
  Usage   : aku [-h]
                [--help]
                [-v ]
                [--version ]
                [-i ]
                [--info ]
                [-p pod_action ]
                [--pod pod_action]

            -h, --help    : this screen
            -v, --version : version information
            -i, --info    : option information
            -p, --pod     : [start | end | clean] specify pod_action

  aku additions:
            --config FILE          : configuration (default $ALTIBASE_HOME/conf/aku.conf)
            -i --show-password     : show the SYS password instead of ********
            -i --output json       : the configuration as JSON
            -p ACTION --dry-run    : print the plan, change nothing
            -p ACTION --log-format json : log lines as JSON
            status [--output json] [--sysdba] : every pod and pair, and what is wrong
            probe startup|live|ready|role ROLE : Kubernetes probes (one line, exit 0 or 1)
            completion bash|zsh|fish|powershell : shell completion script
%s
`, helpRule, strings.Repeat(" ", pad), title, helpRule, helpRule)
}

// noArgs refuses positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: %s takes no argument, got %q", errUsage, cmd.CommandPath(), args[0])
	}
	return nil
}

// subcommandHelp gives a subcommand cobra's own help instead of the
// original's help screen, which the root command prints.
func subcommandHelp(cmd *cobra.Command) {
	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) {
		about := c.Long
		if about == "" {
			about = c.Short
		}
		fmt.Fprintf(c.OutOrStdout(), "%s\n\n%s", about, c.UsageString())
	})
}
