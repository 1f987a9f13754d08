package conf_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aku-project/aku/conf"
)

// TestMessagesQuoteWholeCharacters checks that a non-ASCII character is
// named whole (it once read 'Å' for 'ś', its first byte) and that columns
// count characters, not bytes.
func TestMessagesQuoteWholeCharacters(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"column after a non-ASCII user name", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( ś.1T ) )\n",
			`a.conf:4:48: user name: name "ś" must start with a letter or '_'
a.conf:4:50: table name: name "1T" must start with a letter or '_'`},
		{"non-ASCII letter in a table name", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.Tś ) )\n",
			`a.conf:4:52: table name: name "Tś" contains 'ś': names may contain only letters, digits, '_' and '$'`},
		{"non-ASCII letter in a nested item", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( ( USER_NAME = \"Uż\" TABLE_NAME = \"T\" ) ) )\n",
			`a.conf:4:62: USER_NAME: name "Uż" contains 'ż': names may contain only letters, digits, '_' and '$'`},
		{"byte that is not UTF-8 in a quoted name", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( ( USER_NAME = \"U\xff\" TABLE_NAME = \"T\" ) ) )\n",
			`a.conf:4:62: USER_NAME: name "U\xff" contains '\xff': names may contain only letters, digits, '_' and '$'`},
		{"non-ASCII letter in a DNS label", "AKU_STS_NAME = sts\nAKU_SVC_NAME = śvc\nAKU_SYS_PASSWORD = pw\n" + repl,
			`a.conf:2:16: AKU_SVC_NAME "śvc" is not a DNS label (only letters, digits and '-' are allowed, found 'ś'): it forms the pod host names <AKU_STS_NAME>-<n>.<AKU_SVC_NAME>`},
		{"column after a non-ASCII value", head + "AKU_PORT_NO = ż 1\n" + repl,
			`a.conf:4:17: unexpected "1" after the value of AKU_PORT_NO: write a value containing spaces in double quotes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := conf.Parse("a.conf", []byte(tt.src), conf.Overrides{})
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tt.want)
			}
		})
	}
}

// TestMessagesShortenLongValues checks that a value too long to read in a
// message is shown by its head: a 10 MB unknown name was echoed whole.
func TestMessagesShortenLongValues(t *testing.T) {
	const n = 10 << 20
	head64 := func(c string) string { return fmt.Sprintf("%q… (%d bytes)", strings.Repeat(c, 64), n) }
	tests := []struct{ name, src, want string }{
		{"unknown property", head + strings.Repeat("x", n) + " = 1\n" + repl,
			"a.conf:4:1: unknown property " + head64("x")},
		{"integer", head + "AKU_PORT_NO = " + strings.Repeat("1", n) + "\n" + repl,
			"a.conf:4:15: AKU_PORT_NO must be between 1024 and 65535, not 1111111111111111… (10485760 digits)"},
		{"DNS label", "AKU_STS_NAME = " + strings.Repeat("a", n) + "\nAKU_SVC_NAME = svc\nAKU_SYS_PASSWORD = pw\n" + repl,
			"a.conf:1:16: AKU_STS_NAME " + head64("a") + " is 10485760 bytes long, more than 63: it forms the pod host names <AKU_STS_NAME>-<n>.<AKU_SVC_NAME>"},
		{"item without a dot", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( " + strings.Repeat("T", n) + " ) )\n",
			"a.conf:4:48: replication item " + head64("T") + ": write USER.TABLE (with exactly one '.')"},
		{"table name", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS." + strings.Repeat("T", n) + " ) )\n",
			"a.conf:4:52: table name: name " + head64("T") + " is 10485760 bytes long, more than 128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := conf.Parse("a.conf", []byte(tt.src), conf.Overrides{})
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n got: %.300v\nwant: %.300s", err, tt.want)
			}
		})
	}
}

// TestOverlapNamesTheFirstPartition checks that a whole table listed after
// its partitions is reported against the first of them (the check once
// named one at random).
func TestOverlapNamesTheFirstPartition(t *testing.T) {
	var b strings.Builder
	b.WriteString(head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P (\n")
	for i := 20; i > 0; i-- {
		fmt.Fprintf(&b, "SYS.T1 PARTITION P%d,\n", i)
	}
	b.WriteString("SYS.T1 ) )\n")
	want := "a.conf:25:1: SYS.T1 overlaps its partition SYS.T1 PARTITION P20 listed at line 5"
	for range 5 {
		_, _, err := conf.Parse("a.conf", []byte(b.String()), conf.Overrides{})
		if err == nil || err.Error() != want {
			t.Fatalf("error\n got: %v\nwant: %s", err, want)
		}
	}
}
