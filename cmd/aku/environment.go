package main

import (
	"path/filepath"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife/kube"
)

// environment is everything aku takes from its process environment. It is
// gathered once in main so that the rest of the command is testable with
// values of a test's choosing; no package below cmd/aku reads the environment.
type environment struct {
	AltibaseHome string // ALTIBASE_HOME; required
	PodName      string // POD_NAME (Downward API), else the host name
	HostnameErr  error  // why the host name could not be read, if POD_NAME was unset

	SysPassword        string // AKU_SYS_PASSWORD
	SysPasswordSet     bool
	SysPasswordFile    string // AKU_SYS_PASSWORD_FILE
	ConnectionString   string // AKU_CONNECTION_STRING
	ConnectionStringOK bool
	// MonitorConnectionString is AKU_MONITOR_CONNECTION_STRING.
	MonitorConnectionString   string
	MonitorConnectionStringOK bool

	// MarkerPath is the completion marker (docs/behaviour.md, "The marker");
	// AKU_MARKER_PATH moves it for tests and the demo.
	MarkerPath string

	// EndDeadline is AKU_END_DEADLINE, the time aku -p end has
	// (docs/behaviour.md, "The deadline"), as given; --deadline wins.
	EndDeadline    string
	EndDeadlineSet bool

	// KubernetesHost and KubernetesPort are KUBERNETES_SERVICE_HOST and
	// KUBERNETES_SERVICE_PORT, which Kubernetes sets in every container:
	// with the service account mounted at ServiceAccountDir, they are the
	// in-cluster credentials (docs/behaviour.md, "Kubernetes").
	KubernetesHost, KubernetesPort string
	ServiceAccountDir              string

	// Listen and GracePeriod are AKU_LISTEN and AKU_GRACE_PERIOD, the
	// defaults of aku run's --listen and --grace-period (docs/run.md).
	Listen, GracePeriod       string
	ListenSet, GracePeriodSet bool
}

// defaultMarkerPath is the file the startupProbe watches (docs/behaviour.md,
// "The marker").
const defaultMarkerPath = "/tmp/aku_start_completed"

func lookupEnvironment(lookup func(string) (string, bool), hostname func() (string, error)) environment {
	var env environment
	env.AltibaseHome, _ = lookup("ALTIBASE_HOME")
	if pod, ok := lookup("POD_NAME"); ok && pod != "" {
		env.PodName = pod
	} else {
		env.PodName, env.HostnameErr = hostname()
	}
	env.SysPassword, env.SysPasswordSet = lookup("AKU_SYS_PASSWORD")
	env.SysPasswordFile, _ = lookup("AKU_SYS_PASSWORD_FILE")
	env.ConnectionString, env.ConnectionStringOK = lookup("AKU_CONNECTION_STRING")
	env.MonitorConnectionString, env.MonitorConnectionStringOK = lookup("AKU_MONITOR_CONNECTION_STRING")
	env.EndDeadline, env.EndDeadlineSet = lookup("AKU_END_DEADLINE")
	env.Listen, env.ListenSet = lookup("AKU_LISTEN")
	env.GracePeriod, env.GracePeriodSet = lookup("AKU_GRACE_PERIOD")
	env.MarkerPath = defaultMarkerPath
	if p, ok := lookup("AKU_MARKER_PATH"); ok && p != "" {
		env.MarkerPath = p
	}
	env.KubernetesHost, _ = lookup("KUBERNETES_SERVICE_HOST")
	env.KubernetesPort, _ = lookup("KUBERNETES_SERVICE_PORT")
	env.ServiceAccountDir = kube.DefaultSecretDir
	return env
}

// configPath is $ALTIBASE_HOME/conf/aku.conf (docs/behaviour.md, "Files and
// environment").
func (e environment) configPath() string {
	return filepath.Join(e.AltibaseHome, "conf", "aku.conf")
}

// overrides are the aku.conf values the environment gives
// (docs/configuration.md, "Overrides from the environment").
func (e environment) overrides() conf.Overrides {
	return conf.Overrides{
		SysPassword:         e.SysPassword,
		SysPasswordSet:      e.SysPasswordSet,
		SysPasswordFile:     e.SysPasswordFile,
		ConnectionString:    e.ConnectionString,
		ConnectionStringSet: e.ConnectionStringOK,

		MonitorConnectionString:    e.MonitorConnectionString,
		MonitorConnectionStringSet: e.MonitorConnectionStringOK,
	}
}
