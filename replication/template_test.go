package replication

import (
	"errors"
	"testing"
)

func TestDefaultTemplate(t *testing.T) {
	got := DefaultTemplate("/opt/altibase_home")
	want := "DRIVER=/opt/altibase_home/lib/libaltibase_odbc-64bit-ul64.so;DSN={host};Server={host};PORT_NO={port};UID={user};PWD={password};CONNTYPE=1;PRIVILEGE=SYSDBA;TIMEOUT=3"
	if got != want {
		t.Errorf("DefaultTemplate =\n%s\nwant\n%s", got, want)
	}
	// A home with a ';' must not add an attribute.
	got = DefaultTemplate("/opt/a;b")
	want = "DRIVER={/opt/a;b/lib/libaltibase_odbc-64bit-ul64.so};DSN={host};Server={host};PORT_NO={port};UID={user};PWD={password};CONNTYPE=1;PRIVILEGE=SYSDBA;TIMEOUT=3"
	if got != want {
		t.Errorf("DefaultTemplate with ';' =\n%s\nwant\n%s", got, want)
	}
}

func TestExpandTemplate(t *testing.T) {
	const psql = "DRIVER=/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so;SERVER={host};PORT={port};DATABASE=aku;UID={user};PWD={password};UseServerSidePrepare=0;pqopt={connect_timeout=3}"
	tests := []struct {
		name     string
		tmpl     string
		password string
		want     string
	}{
		{
			name:     "psqlODBC keeps its own braces",
			tmpl:     psql,
			password: "manager",
			want:     "DRIVER=/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so;SERVER=altibase-sts-1.altibase-svc;PORT=20300;DATABASE=aku;UID=SYS;PWD=manager;UseServerSidePrepare=0;pqopt={connect_timeout=3}",
		},
		{
			name:     "default template, every placeholder",
			tmpl:     DefaultTemplate("/h"),
			password: "manager",
			want:     "DRIVER=/h/lib/libaltibase_odbc-64bit-ul64.so;DSN=altibase-sts-1.altibase-svc;Server=altibase-sts-1.altibase-svc;PORT_NO=20300;UID=SYS;PWD=manager;CONNTYPE=1;PRIVILEGE=SYSDBA;TIMEOUT=3",
		},
		{
			name:     "password with ';' is braced",
			tmpl:     "HOST={host};PWD={password}",
			password: "a;PRIVILEGE=NORMAL",
			want:     "HOST=altibase-sts-1.altibase-svc;PWD={a;PRIVILEGE=NORMAL}",
		},
		{
			name:     "password with braces doubles the closing one",
			tmpl:     "HOST={host};PWD={password}",
			password: "x}y{z",
			want:     "HOST=altibase-sts-1.altibase-svc;PWD={x}}y{z}",
		},
		{
			name:     "password with outer spaces is braced so they survive",
			tmpl:     "HOST={host};PWD={password}",
			password: " pw ",
			want:     "HOST=altibase-sts-1.altibase-svc;PWD={ pw }",
		},
		{
			name:     "placeholder-like text in a value stays",
			tmpl:     "HOST={host};X={hostname};PWD={password}",
			password: "p{host}",
			want:     "HOST=altibase-sts-1.altibase-svc;X={hostname};PWD={p{host}}}",
		},
		{
			name:     "a placeholder used twice",
			tmpl:     "DSN={host};SERVER={host}",
			password: "p",
			want:     "DSN=altibase-sts-1.altibase-svc;SERVER=altibase-sts-1.altibase-svc",
		},
		{
			name:     "unclosed brace is copied",
			tmpl:     "HOST={host};X={",
			password: "p",
			want:     "HOST=altibase-sts-1.altibase-svc;X={",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandTemplate(tt.tmpl, "altibase-sts-1.altibase-svc", 20300, "SYS", tt.password)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestExpandTemplateWithoutHost(t *testing.T) {
	_, err := ExpandTemplate("SERVER=db;PORT={port};PWD=secret", "h", 1, "u", "p")
	if !errors.Is(err, ErrTemplate) {
		t.Fatalf("error %v does not wrap ErrTemplate", err)
	}
	want := `invalid connection-string template: "SERVER=db;PORT={port};PWD=********" has no {host} placeholder`
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
}

func TestRedactTemplate(t *testing.T) {
	tests := []struct{ name, tmpl, want string }{
		{"placeholders stay", DefaultTemplate("/h"), DefaultTemplate("/h")},
		{"PWD", "DSN={host};UID=SYS;PWD=manager;X=1", "DSN={host};UID=SYS;PWD=********;X=1"},
		{"Password, lower case, spaces", "DSN={host}; password = s3cret ;X=1", "DSN={host}; password =********;X=1"},
		{"braced value with ';' and '}}'", "DSN={host};Pwd={a;b}}c};X=1", "DSN={host};Pwd=********;X=1"},
		{"unclosed brace", "DSN={host};PWD={abc;X=1", "DSN={host};PWD=********"},
		{"last attribute", "DSN={host};PASSWD=p", "DSN={host};PASSWD=********"},
		{"other keywords that carry secrets", "DSN={host};SSLPassword=a;PRIV_KEY_FILE_PWD=b;ClientSecret=c;AccessToken=d;ENCRYPTPWD=e",
			"DSN={host};SSLPassword=********;PRIV_KEY_FILE_PWD=********;ClientSecret=********;AccessToken=********;ENCRYPTPWD=********"},
		{"libpq options inside pqopt", "SERVER={host};pqopt={connect_timeout=3 password=s3cret sslpassword='a b\\' c'}",
			"SERVER={host};pqopt={connect_timeout=3 password=******** sslpassword=********}"},
		{"nothing secret", "SERVER={host};PORT={port};pqopt={connect_timeout=3}", "SERVER={host};PORT={port};pqopt={connect_timeout=3}"},
		{"empty attributes and no '='", ";;DSN={host};;FLAG;PWD=x;", ";;DSN={host};;FLAG;PWD=********;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactTemplate(tt.tmpl); got != tt.want {
				t.Errorf("RedactTemplate(%q)\n got: %s\nwant: %s", tt.tmpl, got, tt.want)
			}
		})
	}
}
