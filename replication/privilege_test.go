package replication

import (
	"errors"
	"strings"
	"testing"
)

func TestOrdinaryTemplate(t *testing.T) {
	tests := []struct {
		name, tmpl, want, err string
	}{
		{"default template", DefaultTemplate("/opt/altibase"),
			"DRIVER=/opt/altibase/lib/libaltibase_odbc-64bit-ul64.so;DSN={host};Server={host};PORT_NO={port};UID={user};PWD={password};CONNTYPE=1;TIMEOUT=3", ""},
		{"any case, spaces, last attribute", "DSN={host};UID={user}; privilege = sysdba ", "DSN={host};UID={user}", ""},
		{"trailing semicolon kept", "DSN={host};PRIVILEGE=SYSDBA;", "DSN={host};", ""},
		{"braced value with ; and }} is one attribute", "DSN={host};PWD={a;PRIVILEGE=SYSDBA}}};PRIVILEGE=SYSDBA;X=1",
			"DSN={host};PWD={a;PRIVILEGE=SYSDBA}}};X=1", ""},
		{"psqlODBC options are not an attribute", "SERVER={host};pqopt={connect_timeout=3 options='-c privilege=sysdba'}", "",
			`has no PRIVILEGE=SYSDBA attribute`},
		{"another privilege", "DSN={host};PRIVILEGE=NORMAL", "", `has no PRIVILEGE=SYSDBA attribute`},
		{"password not shown", "DSN={host};PWD=secret", "", `"DSN={host};PWD=********"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OrdinaryTemplate(tt.tmpl)
			if tt.err != "" {
				if err == nil || !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("OrdinaryTemplate(%q) = %q, %v; want an ErrTemplate with %q", tt.tmpl, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("OrdinaryTemplate(%q) = %q, %v; want %q", tt.tmpl, got, err, tt.want)
			}
		})
	}
}

func TestCheckOrdinary(t *testing.T) {
	tests := []struct {
		tmpl, err string
	}{
		{"SERVER={host};pqopt={connect_timeout=3}", ""},
		{"DSN={host};Privilege=SysDBA", "asks for PRIVILEGE=SYSDBA"},
		{"DSN=a;PWD=x", `"DSN=a;PWD=********" has no {host} placeholder`},
	}
	for _, tt := range tests {
		err := CheckOrdinary(tt.tmpl)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("CheckOrdinary(%q) = %v; want %q", tt.tmpl, err, tt.err)
		}
	}
}
