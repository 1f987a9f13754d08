package main

import (
	"fmt"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
)

// identity is this pod's place in the StatefulSet, from POD_NAME or the
// host name.
func (o *options) identity(cfg *conf.Config) (podlife.Identity, error) {
	id, err := podlife.Identify(o.env.PodName, cfg)
	if err != nil && o.env.HostnameErr != nil {
		return id, fmt.Errorf("reading the host name (POD_NAME is not set): %v: %w", o.env.HostnameErr, err)
	}
	return id, err
}

// sysdbaDialer opens aku's SYSDBA sessions (-p, status --sysdba), with the
// connection template of connectionTemplate.
func (o *options) sysdbaDialer(cfg *conf.Config) (*replication.Dialer, error) {
	template := connectionTemplate(o.env, cfg)
	if o.env.AltibaseHome == "" && template == replication.DefaultTemplate("") {
		// With --config aku.conf is found without ALTIBASE_HOME, but the
		// default driver path would then be relative (docs/behaviour.md,
		// "Files and environment").
		return nil, fmt.Errorf("%w: ALTIBASE_HOME is not set: the default connection string uses the Altibase ODBC driver in $ALTIBASE_HOME/lib (set ALTIBASE_HOME, or AKU_CONNECTION_STRING)", errEnvironment)
	}
	return o.dialer(cfg, template)
}

// monitorDialer opens the ordinary (non-SYSDBA) sessions of status, the
// probes and a start's progress watch: AKU_MONITOR_CONNECTION_STRING,
// else the SYSDBA template without its PRIVILEGE=SYSDBA
// (docs/configuration.md, "Read-only sessions").
func (o *options) monitorDialer(cfg *conf.Config) (*replication.Dialer, error) {
	if cfg.MonitorConnectionString != "" {
		if err := replication.CheckOrdinary(cfg.MonitorConnectionString); err != nil {
			return nil, fmt.Errorf("AKU_MONITOR_CONNECTION_STRING: %w", err)
		}
		return o.dialer(cfg, cfg.MonitorConnectionString)
	}
	d, err := o.sysdbaDialer(cfg)
	if err != nil {
		return nil, err
	}
	if d.Template, err = replication.OrdinaryTemplate(d.Template); err != nil {
		return nil, fmt.Errorf("deriving the read-only sessions' connection string: %w", err)
	}
	return d, nil
}

// dialer is a Dialer of this binary's SQL driver with template and the
// configuration's credentials and statement policy.
func (o *options) dialer(cfg *conf.Config, template string) (*replication.Dialer, error) {
	if o.sqlDriver == "" {
		return nil, fmt.Errorf("%w: this aku binary was built without ODBC support (cgo off or -tags noodbc), so it cannot reach Altibase; use a build with cgo", errEnvironment)
	}
	return &replication.Dialer{
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
	}, nil
}
