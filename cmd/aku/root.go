package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
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
	peers        string // -p release --peer N[,M]
	release      []int  // peers, parsed
	deadline     string // -p end --deadline DURATION
	deadlineSet  bool

	// sqlDriver is the database/sql driver -p connects with: the ODBC
	// driver (odbcDriverName), or in tests the simulator's in-process one.
	sqlDriver string
	// console is the standard output of -p, set once its flags are valid.
	console *console
	// commit is called before a lifecycle run starts changing things; it
	// reports false when a signal came first (see interruptible). nil
	// commits at once.
	commit func() bool
	// resolver looks the pods' names up for status and the probes; nil
	// is the system's.
	resolver health.Resolver
}

// run executes aku with args and returns its exit code. Errors are printed
// once, here: to stderr, or as the last JSON record of -p's stdout.
func run(args []string, stdout, stderr io.Writer, env environment) int {
	return runWith(&options{stdout: stdout, stderr: stderr, env: env, sqlDriver: odbcDriverName}, args)
}

// runWith is run with the options' outputs, environment and driver.
func runWith(o *options, args []string) int {
	// SIGINT and SIGTERM end the run at once until it starts changing
	// things, and from then on cancel it, so that it still restores what it
	// changed before aku exits (signal.go).
	err := interruptible(func(ctx context.Context, commit func() bool) error {
		o.commit = commit
		cmd := newRootCommand(o)
		cmd.SetArgs(args)
		return cmd.ExecuteContext(ctx)
	})
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	switch {
	case o.console != nil && o.console.json:
		o.console.fail(err, code)
	case errors.Is(err, conf.ErrInvalid):
		// Configuration errors already read "file:line:col: message".
		fmt.Fprintln(o.stderr, err)
	default:
		fmt.Fprintf(o.stderr, "aku: %v\n", err)
	}
	return code
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
	f.StringVarP(&o.pod, "pod", "p", "", "pod action: start, end, clean or release")
	f.StringVar(&o.configPath, "config", "", "configuration file (default $ALTIBASE_HOME/conf/aku.conf)")
	f.BoolVar(&o.showPassword, "show-password", false, "with -i: show the SYS password instead of masking it")
	f.StringVar(&o.output, "output", "text", "output format, text or json: -i's configuration, -p's records and --dry-run plan")
	f.BoolVar(&o.dryRun, "dry-run", false, "with -p: print the plan and change nothing")
	f.StringVar(&o.logFormat, "log-format", "text", "with -p: text (the original's layout) or json (as --output json)")
	f.StringVar(&o.peers, "peer", "", "with -p release: the ordinals of the gone pods whose pairs this pod releases, N[,M]")
	f.StringVar(&o.deadline, "deadline", "", "with -p end: the time the end has, e.g. the grace period less the server's stop (25s, or 25)")
	actions := make([]string, len(podlife.Actions))
	for i, a := range podlife.Actions {
		actions[i] = string(a)
	}
	_ = cmd.RegisterFlagCompletionFunc("pod", cobra.FixedCompletions(actions, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.AddCommand(newStatusCommand(o), newProbeCommand(o), newRunCommand(o))

	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) { printHelp(c.OutOrStdout()) })
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		// An unknown option prints the help screen (docs/behaviour.md,
		// "Command line").
		printHelp(c.ErrOrStderr())
		return fmt.Errorf("%w: %v", errUsage, err)
	})
	return cmd
}

// dispatch runs the one action the flags ask for.
func (o *options) dispatch(cmd *cobra.Command) error {
	ctx := cmd.Context()
	f := cmd.Flags()
	o.deadlineSet = f.Changed("deadline")
	switch {
	case o.version:
		printVersion(o.stdout)
		return nil
	case o.info && f.Changed("pod"):
		return fmt.Errorf("%w: -i and -p cannot be used together", errUsage)
	case f.Changed("peer") && !f.Changed("pod"):
		return fmt.Errorf("%w: --peer goes with -p release", errUsage)
	case o.deadlineSet && !f.Changed("pod"):
		return fmt.Errorf("%w: --deadline goes with -p end only", errUsage)
	case o.info:
		if err := checkFormat("--output", o.output); err != nil {
			return err
		}
		return runInfo(ctx, o)
	case f.Changed("pod"):
		if err := checkFormat("--output", o.output); err != nil {
			return err
		}
		if err := checkFormat("--log-format", o.logFormat); err != nil {
			return err
		}
		// Either flag makes the whole of stdout JSON records
		// (docs/json.md), the error that ends the run included: a plan or
		// log line in text among them would break the reader.
		o.console = newConsole(o.stdout, o.output == "json" || o.logFormat == "json")
		action, err := podlife.ParseAction(o.pod)
		if err != nil {
			return fmt.Errorf("%w: -p: %v", errUsage, err)
		}
		if o.release, err = releasePeers(action, f.Changed("peer"), o.peers); err != nil {
			return err
		}
		return runPod(ctx, o, action)
	default:
		// No option prints only the help screen (docs/behaviour.md,
		// "Command line").
		printHelp(o.stderr)
		return fmt.Errorf("%w: no option given", errUsage)
	}
}

// releasePeers parses --peer, which -p release needs and no other action
// takes: comma-separated pod ordinals. Whether each is below
// AKU_SERVER_COUNT and not this pod's is podlife's check, once the
// configuration is read.
func releasePeers(action podlife.Action, given bool, value string) ([]int, error) {
	switch {
	case action == podlife.ActionRelease && !given:
		return nil, fmt.Errorf("%w: -p release needs --peer N[,M]: the ordinals of the gone pods whose pairs this pod releases", errUsage)
	case action != podlife.ActionRelease && given:
		return nil, fmt.Errorf("%w: --peer goes with -p release, not -p %s", errUsage, action)
	case !given:
		return nil, nil
	}
	var out []int
	for _, field := range strings.Split(value, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: --peer %q: %q is not a pod ordinal (a number such as 3)", errUsage, value, field)
		}
		out = append(out, n)
	}
	return out, nil
}

// checkFormat accepts the output formats, text and json.
func checkFormat(flag, value string) error {
	if value != "text" && value != "json" {
		return fmt.Errorf("%w: %s %q: want text or json", errUsage, flag, value)
	}
	return nil
}

// resolveConfigPath is --config, else $ALTIBASE_HOME/conf/aku.conf; the
// latter needs ALTIBASE_HOME (docs/behaviour.md, "Files and environment").
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
		if o.console != nil && o.console.json {
			o.console.log.Warn(w.String())
		} else {
			fmt.Fprintln(o.stderr, w)
		}
	}
	return cfg, err
}

const helpRule = "==============================================================================="

// printHelp prints the original's help screen unchanged but for
// the action, spelled as it works (end, not the vendor's stop: aku -p stop
// suggests end), then aku's additions below the box: its options, the
// environment it reads (every variable lookupEnvironment reads: a test
// checks) and where the exit codes are listed.
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
%s
  aku additions:
    -p release --peer N[,M]   stop and reset this pod's pairs with the gone
                              pods N, M (docs/behaviour.md, "Stale peers")
    --config FILE             configuration (default $ALTIBASE_HOME/conf/aku.conf)
    -i --show-password        show the SYS password instead of ********
    -i --output json          the configuration as JSON
    -p ACTION --dry-run       print the plan, change nothing
    -p end --deadline DURATION
                              end within DURATION (25s, or 25 seconds): what
                              cannot be flushed in time keeps its restart points
    -p ACTION --output json   stdout as JSON records: banners, log lines, the
                              plan of --dry-run, the error (docs/json.md);
                              --log-format json does the same
    status [--output json] [--sysdba]
                              every pod and pair, and what is wrong (read-only)
    probe startup|live|ready|role ROLE
                              Kubernetes probes: one line, exit 0 or 1
    run [--listen ADDR] [--grace-period D] [--stop-command CMD] [-- SERVER...]
                              the pod's entry point: start the server, aku -p
                              start (retried), serve probes and metrics on
                              HTTP, aku -p end at SIGTERM (docs/run.md)
    completion SHELL          completion script for bash, zsh, fish, powershell

  environment:
    ALTIBASE_HOME             aku reads $ALTIBASE_HOME/conf/aku.conf and loads
                              the Altibase ODBC driver from $ALTIBASE_HOME/lib
    POD_NAME                  this pod's name (Downward API); else the host name
    AKU_SYS_PASSWORD          the SYS password, instead of aku.conf's
    AKU_SYS_PASSWORD_FILE     a file holding it, e.g. a mounted Secret
    AKU_CONNECTION_STRING     the ODBC connection-string template
    AKU_MONITOR_CONNECTION_STRING  the template of the read-only sessions
                              of status and the probes
    KUBERNETES_SERVICE_HOST   set by Kubernetes; with KUBERNETES_SERVICE_PORT
    KUBERNETES_SERVICE_PORT   and the pod's service account, aku may ask the
                              API (AKU_REPLICATION_RESET_AT_END = 2,
                              AKU_KUBERNETES_PUBLISH = 1)
    AKU_MARKER_PATH           the completion marker (default `+defaultMarkerPath+`)
    AKU_END_DEADLINE          -p end's --deadline, when the option is not given
    AKU_LISTEN                aku run's HTTP address (default :8008)
    AKU_GRACE_PERIOD          aku run's grace period, as terminationGracePeriodSeconds

  exit codes: 0 success, 2 command line, 3 aku.conf, 4 environment, 5 and up
    a failed run: the table "Exit codes" of aku's README says each one
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
