package pgwire

import (
	"reflect"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"psqlODBC housekeeping", "SET DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation",
			[]string{"SET DateStyle = 'ISO'", "SET extra_float_digits = 2", "show transaction_isolation"}},
		{"one statement with trailing semicolon", "ALTER REPLICATION R1 STOP;", []string{"ALTER REPLICATION R1 STOP"}},
		{"semicolon in a literal", "INSERT INTO T VALUES (1, 'a;b''c;');SELECT 1",
			[]string{"INSERT INTO T VALUES (1, 'a;b''c;')", "SELECT 1"}},
		{"semicolon in an identifier and a comment", "SELECT \"a;b\" FROM T -- x;y\n;SELECT 2",
			[]string{"SELECT \"a;b\" FROM T -- x;y", "SELECT 2"}},
		{"empty statements", " ; ;\n", nil},
		{"unterminated literal", "SELECT 'a;b", []string{"SELECT 'a;b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SplitStatements(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("SplitStatements(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzSplitStatements(f *testing.F) {
	f.Add("SELECT 'a;b';SELECT \"c;\" -- ;\n")
	f.Fuzz(func(t *testing.T, q string) {
		for _, s := range SplitStatements(q) {
			if s == "" {
				t.Fatalf("SplitStatements(%q) returned an empty statement", q)
			}
		}
	})
}
