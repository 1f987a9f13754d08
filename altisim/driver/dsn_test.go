package driver

import (
	"testing"
	"time"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		name    string
		dsn     string
		want    Config
		wantErr string
	}{
		{
			name: "aku template expanded",
			dsn:  "CLUSTER=c1;HOST=altibase-sts-1.altibase-svc;PORT=20300;UID=SYS;PWD=manager;PRIVILEGE=SYSDBA;CONNECT_TIMEOUT=3",
			want: Config{Cluster: "c1", Host: "altibase-sts-1.altibase-svc", Port: 20300, User: "SYS", Password: "manager", SysDBA: true, ConnectTimeout: 3 * time.Second},
		},
		{
			name: "aliases, any case, spaces, unknown keys and braces",
			dsn:  " driver = {Altibase ODBC};cluster=c2; Server = h ;port_no=1;User=u;Password={p;w}}d};privilege=normal;timeout=0.5;NLS_USE=US7ASCII;",
			want: Config{Cluster: "c2", Host: "h", Port: 1, User: "u", Password: "p;w}d", ConnectTimeout: 500 * time.Millisecond},
		},
		{name: "no cluster", dsn: "HOST=h", wantErr: "parsing connection string: no CLUSTER key"},
		{name: "no host", dsn: "CLUSTER=c", wantErr: "parsing connection string: no HOST key"},
		{name: "bad port", dsn: "CLUSTER=c;HOST=h;PORT=x", wantErr: `parsing connection string: port "x" is not a port number`},
		{name: "bad privilege", dsn: "CLUSTER=c;HOST=h;PRIVILEGE=root", wantErr: `parsing connection string: unknown privilege "root"`},
		{name: "bad timeout", dsn: "CLUSTER=c;HOST=h;CONNECT_TIMEOUT=-1", wantErr: `parsing connection string: connect timeout "-1" is not a number of seconds`},
		{name: "unclosed brace", dsn: "CLUSTER=c;HOST=h;PWD={x", wantErr: "parsing connection string: value of PWD: unclosed '{'"},
		{name: "text after brace", dsn: "CLUSTER=c;HOST=h;PWD={x}y", wantErr: "parsing connection string: value of PWD: text after '}'"},
		{name: "segment without equals", dsn: "CLUSTER=c;HOST=h;junk", wantErr: `parsing connection string: "junk" is not key=value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDSN(tt.dsn)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseDSN error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("ParseDSN = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseDSN(f *testing.F) {
	f.Add("CLUSTER=c;HOST=h;PWD={a;}}b}")
	f.Fuzz(func(t *testing.T, dsn string) {
		c, err := ParseDSN(dsn)
		if err == nil && (c.Cluster == "" || c.Host == "") {
			t.Fatalf("ParseDSN(%q) accepted a config without cluster or host: %+v", dsn, c)
		}
	})
}
