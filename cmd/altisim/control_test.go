package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
)

// startControl serves the control path of a fresh engine on a unix socket
// and returns a client of it and the engine.
func startControl(t *testing.T) (*controlClient, *altisim.Server, <-chan struct{}) {
	t.Helper()
	engine, err := altisim.NewServer(altisim.Options{Name: "ctl"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	sock := filepath.Join(t.TempDir(), "control.sock")
	ln, err := listenControl(context.Background(), sock, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- serveControl(ctx, ln, engine, func() { close(stopped) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serveControl: %v", err)
		}
	})
	return newControlClient(sock), engine, stopped
}

func TestControlPath(t *testing.T) {
	c, engine, stopped := startControl(t)
	ctx := context.Background()
	steps := []struct {
		name    string
		method  string
		path    string
		body    any
		want    string
		wantErr string
	}{
		{"no faults", http.MethodGet, "/faults", nil, "[]\n", ""},
		{"add fail", http.MethodPost, "/faults", faultSpec{Pattern: "START", Action: "fail", Nth: 2, Code: "ERR-6100D", Message: "[Sender] Failed to handshake with the peer server (refused)"},
			`{"pattern":"START","action":"fail","nth":2,"code":"6100D","message":"[Sender] Failed to handshake with the peer server (refused)"}` + "\n", ""},
		{"add delay", http.MethodPost, "/faults", faultSpec{Pattern: "FLUSH", Action: "delay", Delay: "1.5s"},
			`{"pattern":"FLUSH","action":"delay","delay":"1.5s"}` + "\n", ""},
		{"list", http.MethodGet, "/faults", nil,
			`[{"pattern":"START","action":"fail","nth":2,"code":"6100D","message":"[Sender] Failed to handshake with the peer server (refused)"},{"pattern":"FLUSH","action":"delay","delay":"1.5s"}]` + "\n", ""},
		{"bad code", http.MethodPost, "/faults", faultSpec{Pattern: "X", Action: "fail", Code: "XYZ"}, "", `POST /faults: fault code "XYZ" is not hexadecimal`},
		{"bad action", http.MethodPost, "/faults", faultSpec{Pattern: "X", Action: "explode"}, "", `POST /faults: adding fault: unknown action "explode"`},
		{"unknown field", http.MethodPost, "/faults", map[string]string{"patern": "X"}, "", `POST /faults: decoding request: json: unknown field "patern"`},
		{"latency", http.MethodPut, "/latency", map[string]string{"latency": "20ms"}, `{"latency":"20ms"}` + "\n", ""},
		{"clear", http.MethodDelete, "/faults", nil, "[]\n", ""},
		{"hold sysdba", http.MethodPost, "/sysdba/hold", nil, `{"held":true}` + "\n", ""},
		{"release sysdba", http.MethodDelete, "/sysdba/hold", nil, `{"held":false}` + "\n", ""},
		{"hold a sender", http.MethodPost, "/senders/hold?replication=aku_rep_01", nil, `{"held":true,"replication":"AKU_REP_01"}` + "\n", ""},
		{"hold every sender", http.MethodPost, "/senders/hold", nil, `{"held":true,"replication":""}` + "\n", ""},
		{"release every sender", http.MethodDelete, "/senders/hold", nil, `{"held":false,"replication":""}` + "\n", ""},
		{"release a sender", http.MethodDelete, "/senders/hold?replication=AKU_REP_01", nil, `{"held":false,"replication":"AKU_REP_01"}` + "\n", ""},
		{"sync delay", http.MethodPut, "/sync-delay", map[string]string{"delay": "25ms"}, `{"delay":"25ms"}` + "\n", ""},
		{"send rate", http.MethodPut, "/send-rate", map[string]int64{"bytesPerSecond": 1 << 20}, `{"bytesPerSecond":1048576}` + "\n", ""},
		{"bad send rate", http.MethodPut, "/send-rate", map[string]int64{"bytesPerSecond": -1}, "", `PUT /send-rate: want {"bytesPerSecond": a number of 0 or more}`},
		{"send rate without a rate", http.MethodPut, "/send-rate", map[string]int64{}, "", `PUT /send-rate: want {"bytesPerSecond": a number of 0 or more}`},
		{"bad sync delay", http.MethodPut, "/sync-delay", map[string]string{"delay": "-1s"}, "", `PUT /sync-delay: delay "-1s": want {"delay": a duration of 0 or more}`},
		{"bad latency key", http.MethodPut, "/latency", map[string]string{"delay": "1s"}, "", `PUT /latency: latency "": want {"latency": a duration of 0 or more}`},
		{"empty log", http.MethodGet, "/log", nil, "[]\n", ""},
		{"shutdown", http.MethodPost, "/shutdown", nil, `{"stopping":true}` + "\n", ""},
	}
	for _, st := range steps {
		var out bytes.Buffer
		err := c.do(ctx, st.method, st.path, st.body, &out)
		if st.wantErr != "" {
			if err == nil || err.Error() != st.wantErr {
				t.Fatalf("%s: error = %v, want %q", st.name, err, st.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if out.String() != st.want {
			t.Fatalf("%s: reply %q, want %q", st.name, out.String(), st.want)
		}
		switch st.name {
		case "latency":
			if got := engine.Faults().Latency(); got != 20*time.Millisecond {
				t.Fatalf("engine latency = %v, want 20ms", got)
			}
		case "sync delay":
			if got := engine.Faults().SyncRowDelay(); got != 25*time.Millisecond {
				t.Fatalf("engine SYNC row delay = %v, want 25ms", got)
			}
		case "send rate":
			if got := engine.Faults().SendRate(); got != 1<<20 {
				t.Fatalf("engine send rate = %d, want %d", got, 1<<20)
			}
		case "clear":
			if got := engine.Faults().Latency(); got != 0 || len(engine.Faults().List()) != 0 {
				t.Fatalf("after clear: latency %v, faults %v", got, engine.Faults().List())
			}
		}
	}
	select {
	case <-stopped:
	case <-time.After(time.Second):
		t.Fatal("POST /shutdown did not call shutdown")
	}
}

func TestIsTCPAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:7000", true},
		{"localhost:7000", true},
		{"[::1]:7000", true},
		{"/var/run/altisim.sock", false},
		{"data/control.sock", false},
		{"control.sock", false},
		{"host:name", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := isTCPAddr(tt.addr); got != tt.want {
				t.Fatalf("isTCPAddr(%q) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestServeUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no data dir", []string{"serve"}, nil, "altisim: --data is required\n"},
		{"bad property", []string{"serve", "--data", "d", "--property", "ADMIN_MODE"}, nil, "altisim: --property \"ADMIN_MODE\": want NAME=INTEGER\n"},
		{"bad env", []string{"serve", "--data", "d"}, map[string]string{"ALTIBASE_ADMIN_MODE": "yes"}, "altisim: environment ALTIBASE_ADMIN_MODE=\"yes\": not an integer\n"},
		{"unknown flag", []string{"serve", "--nope"}, nil, "altisim: unknown flag: --nope\n"},
		{"fault without control", []string{"fault", "list"}, nil, "altisim: --control is required\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			if code := run(tt.args, &stdout, &stderr, env); code != exitUsage {
				t.Errorf("exit code %d, want %d", code, exitUsage)
			}
			if stderr.String() != tt.want || stdout.Len() != 0 {
				t.Fatalf("stderr %q stdout %q, want stderr %q", stderr.String(), stdout.String(), tt.want)
			}
		})
	}
}

// TestServeOptionsEnvOverridesFlags: ALTIBASE_<PROPERTY> beats the flags,
// as it beats altibase.properties (Altibase General Reference, "Altibase
// Properties").
func TestServeOptionsEnvOverridesFlags(t *testing.T) {
	f := &serveFlags{}
	cmd := f.command(&bytes.Buffer{}, nil)
	if err := cmd.ParseFlags([]string{"--data", "d", "--admin-mode", "1", "--property", "query_timeout=5", "--property", "REPLICATION_DDL_ENABLE=1", "--name", "n0"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ALTIBASE_ADMIN_MODE": "0", "ALTIBASE_REMOTE_SYSDBA_ENABLE": " 0 ", "ALTIBASE_HOME": "/opt/altibase",
		"ALTIBASE_LOG_FILE_SIZE": "131072", "ALTIBASE_PORT_NO": "20300"}
	o, err := f.options(cmd, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	// PORT_NO comes from --listen, not from the environment.
	want := map[string]int64{"ADMIN_MODE": 0, "REMOTE_SYSDBA_ENABLE": 0, "QUERY_TIMEOUT": 5, "REPLICATION_DDL_ENABLE": 1, "LOG_FILE_SIZE": 131072}
	if len(o.Properties) != len(want) {
		t.Fatalf("properties %v, want %v", o.Properties, want)
	}
	for k, v := range want {
		if o.Properties[k] != v {
			t.Fatalf("properties %v, want %v", o.Properties, want)
		}
	}
	if o.Name != "n0" || o.DataDir != "d" || o.SysPassword != "manager" {
		t.Fatalf("options %+v", o)
	}
}
