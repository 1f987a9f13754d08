package conf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const loadTestHead = "AKU_STS_NAME = sts\nAKU_SVC_NAME = svc\nAKU_SYS_PASSWORD = pw\n"
const loadTestRepl = "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1 ) )\n"

// TestIntegerRangeMessages: every numeric property, just outside its range
// on either side and far past it, is reported with the range it must be in.
func TestIntegerRangeMessages(t *testing.T) {
	type prop struct {
		name   string
		lo, hi int64
		line   func(v string) string // aku.conf text setting the property to v
		col    int
	}
	var props []prop
	for _, name := range propertyOrder {
		p := properties[name]
		if p.kind != kindInt {
			continue
		}
		props = append(props, prop{name, p.min, p.max, func(v string) string { return loadTestHead + name + " = " + v + "\n" + loadTestRepl }, len(name) + 4})
	}
	props = append(props, prop{"SYNC_PARALLEL_COUNT", 1, 100, func(v string) string {
		return loadTestHead + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P SYNC_PARALLEL_COUNT = " + v + " ( SYS.T1 ) )\n"
	}, 68})
	if len(props) < 2 || props[0].name != "AKU_SERVER_COUNT" {
		t.Fatalf("numeric properties found: %v", props)
	}
	for _, p := range props {
		want := func(shown string) string {
			if p.lo == 0 && p.hi == 1 {
				return fmt.Sprintf("a.conf:4:%d: %s must be 0 or 1, not %s", p.col, p.name, shown)
			}
			return fmt.Sprintf("a.conf:4:%d: %s must be between %d and %d, not %s", p.col, p.name, p.lo, p.hi, shown)
		}
		long := "9" + strings.Repeat("0", 29)
		cases := map[string]string{
			fmt.Sprint(p.lo - 1):         want(fmt.Sprint(p.lo - 1)),
			fmt.Sprint(p.hi + 1):         want(fmt.Sprint(p.hi + 1)),
			"4294967296":                 want("4294967296"),
			"9223372036854775808":        want("9223372036854775808"), // past int64
			long:                         want("9000000000000000… (30 digits)"),
			"-" + long:                   want("-900000000000000… (30 digits)"),
			"00000000000000000000" + "7": "", // leading zeros: 7
		}
		for v, wantErr := range cases {
			t.Run(p.name+"="+v, func(t *testing.T) {
				_, _, err := Parse("a.conf", []byte(p.line(v)), Overrides{})
				if wantErr == "" {
					if (err == nil) != (p.lo <= 7 && 7 <= p.hi) {
						t.Errorf("7 written with leading zeros: %v", err)
					}
					return
				}
				if err == nil || err.Error() != wantErr {
					t.Errorf("error\n got: %v\nwant: %s", err, wantErr)
				}
			})
		}
	}
}

// TestReadBounded: aku.conf and the password file are read only when they
// are regular files within their size limit; anything else fails at once
// with a configuration error naming the file and what is wrong.
func TestReadBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sparse := func(name string, size int64) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err == nil {
			err = f.Truncate(size)
		}
		if err == nil {
			err = f.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	hugeConf := sparse("huge.conf", MaxConfigBytes+1)
	hugePassword := sparse("huge.password", MaxPasswordBytes+1)
	config := filepath.Join(dir, "aku.conf")
	if err := os.WriteFile(config, []byte(loadTestHead+loadTestRepl), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, config, password, want string
	}{
		{"config /dev/zero", "/dev/zero", "", "/dev/zero: reading the configuration: it is a character device, not a regular file"},
		{"config fifo", fifo, "", fifo + ": reading the configuration: it is a named pipe, not a regular file"},
		{"config directory", dir, "", dir + ": reading the configuration: it is a directory, not a regular file"},
		{"config too large", hugeConf, "", hugeConf + ": reading the configuration: the file is larger than the 16 MiB an aku.conf may be"},
		{"password /dev/zero", config, "/dev/zero", "/dev/zero: reading the password named by AKU_SYS_PASSWORD_FILE: it is a character device, not a regular file"},
		{"password fifo", config, fifo, fifo + ": reading the password named by AKU_SYS_PASSWORD_FILE: it is a named pipe, not a regular file"},
		{"password directory", config, dir, dir + ": reading the password named by AKU_SYS_PASSWORD_FILE: it is a directory, not a regular file"},
		{"password too large", config, hugePassword, hugePassword + ": reading the password named by AKU_SYS_PASSWORD_FILE: the file is larger than the 64 KiB a password file may be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, _, err := Load(tt.config, Overrides{SysPasswordFile: tt.password})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || err.Error() != tt.want || !errors.Is(err, ErrInvalid) {
					t.Errorf("error\n got: %v\nwant: %s (wrapping ErrInvalid)", err, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Load blocked")
			}
		})
	}

	// At the limit, a password file is read.
	atLimit := filepath.Join(dir, "password")
	if err := os.WriteFile(atLimit, []byte(strings.Repeat("p", MaxPasswordBytes)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := Load(config, Overrides{SysPasswordFile: atLimit})
	if err != nil || len(cfg.SysPassword) != MaxPasswordBytes {
		t.Fatalf("a password of %d bytes: %v", MaxPasswordBytes, err)
	}
}

// TestSyntaxErrorsHideSecrets: the parser quotes the text it stumbled on;
// on a line that sets a password or the connection string that is part of
// a secret, and the message shows it masked. Other lines keep theirs.
func TestSyntaxErrorsHideSecrets(t *testing.T) {
	tests := []struct{ line, want string }{
		{`AKU_SYS_PASSWORD = Kn0wn S3cret`, `a.conf:3:26: unexpected "********" after the value of AKU_SYS_PASSWORD`},
		{`AKU_SYS_PASSWORD = Kn0wn#S3cret`, `a.conf:3:25: '#' right after the value "********" is ambiguous`},
		{`AKU_SYS_PASWWORD = Kn0"wnS3cret"`, `a.conf:3:23: a quote inside the value "********" is ambiguous`},
		{`  AKU_SYS_PASSWORD="Kn0wn"S3cret`, `a.conf:3:`},
		{`AKU_CONNECTION_STRING = DSN={host};PWD=Kn0wn S3cret`, `a.conf:3:`},
		{`AKU_STS_NAME = Kn0wn#S3cret`, `a.conf:3:21: '#' right after the value "Kn0wn" is ambiguous`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			src := "AKU_STS_NAME = sts\nAKU_SVC_NAME = svc\n" + tt.line + "\n" + loadTestRepl
			_, _, err := Parse("a.conf", []byte(src), Overrides{})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to start with %q", err, tt.want)
			}
			secret := !strings.HasPrefix(tt.line, "AKU_STS_NAME")
			if shown := strings.Contains(err.Error(), "Kn0") || strings.Contains(err.Error(), "S3c"); shown == secret {
				t.Errorf("error %q: secret shown = %v", err, shown)
			}
		})
	}
}
