package parser

import (
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"value with a space", "AKU_SYS_PASSWORD = my pass\n",
			`a.conf:1:23: unexpected "pass" after the value of AKU_SYS_PASSWORD: write a value containing spaces in double quotes`},
		{"hash glued to a value", "AKU_SYS_PASSWORD = pa#ss\n",
			`a.conf:1:22: '#' right after the value "pa" is ambiguous: put a space before a comment, or write a value containing '#' in double quotes`},
		{"quote inside a bare value", "AKU_SYS_PASSWORD = pa\"ss\"\n",
			`a.conf:1:22: a quote inside the value "pa" is ambiguous: write the whole value in double quotes`},
		{"text after a closing quote", "AKU_SYS_PASSWORD = \"pa\"ss\n",
			`a.conf:1:24: unexpected text right after a closing quote: quote the whole value`},
		{"unterminated quote", "AKU_SYS_PASSWORD = \"pass\nAKU_PORT_NO = 1\n",
			`a.conf:1:20: unterminated quoted value: the closing " is missing on this line`},
		{"unknown escape", "AKU_SYS_PASSWORD = \"a\\nb\"\n",
			`a.conf:1:22: unknown escape "\\n" in a quoted value: only \" (a quote) and \\ (a backslash) are escapes`},
		{"no value", "AKU_PORT_NO =\nAKU_SVC_NAME = s\n",
			`a.conf:1:1: AKU_PORT_NO has no value after '='`},
		{"no equals sign", "AKU_PORT_NO 20300\n",
			`a.conf:1:13: unexpected token "20300" (expected "=")`},
		{"equals sign first", "= 3\n",
			`a.conf:1:1: unexpected token "=" (expected a property name)`},
		{"control character", "AKU_PORT_NO = 1\x00\n",
			`a.conf:1:16: unexpected control character U+0000`},
		{"unclosed group", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P\n  ( SYS.T1 )\n",
			`a.conf:3:1: unexpected end of file (expected ")") (the "(" at line 1, column 16 is not closed)`},
		{"extra closing parenthesis", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1 ) ) )\n",
			`a.conf:1:59: unexpected ")": no "(" is open here`},
		{"closing parenthesis first", ") = 1\n",
			`a.conf:1:1: unexpected ")": no "(" is open here`},
		{"missing comma between items", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1\n SYS.T2 ) )\n",
			`a.conf:2:2: missing ',' between replication items`},
		{"partition without a name", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1 PARTITION ) )\n",
			`a.conf:1:55: PARTITION must be followed by a partition name`},
		{"value after groups", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1 ) ) x\n",
			`a.conf:1:59: unexpected "x" after the groups of REPLICATIONS`},
		{"trailing comma after the last group", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1 ) ),\nAKU_PORT_NO = 1\n",
			`a.conf:1:58: unexpected ",": no group "( ... )" follows it`},
		{"comma after a value", "AKU_PORT_NO = 1, 2\n",
			`a.conf:1:16: unexpected token "," (expected end of line)`},
		{"setting without a value in a group", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = ( SYS.T1 ) )\n",
			`a.conf:1:44: unexpected token "(" (expected a name or value)`},
		{"two properties on one line", "AKU_PORT_NO = 1 AKU_SVC_NAME = s\n",
			`a.conf:1:30: unexpected token "=" (expected end of line)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("a.conf", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

// summary renders a parsed file as one line per node with its position, so
// that tests compare the whole tree.
func summary(f *File) string {
	var b strings.Builder
	w := func(format string, args ...any) { b.WriteString(sprintf(format, args...) + "\n") }
	for _, e := range f.Entries {
		if e.Groups == nil {
			w("%d:%d %s = %q quoted=%v @%d:%d", e.Pos.Line, e.Pos.Column, e.Name, e.Value.Text(), e.Value.IsQuoted(), e.Value.Pos.Line, e.Value.Pos.Column)
			continue
		}
		w("%d:%d %s", e.Pos.Line, e.Pos.Column, e.Name)
		for _, g := range e.Groups {
			w("  group %d:%d", g.Pos.Line, g.Pos.Column)
			for _, m := range g.Members {
				if m.Setting != nil {
					w("    %d:%d %s = %q", m.Setting.Pos.Line, m.Setting.Pos.Column, m.Setting.Name, m.Setting.Value.Text())
					continue
				}
				w("    items %d:%d", m.Items.Pos.Line, m.Items.Pos.Column)
				for _, it := range m.Items.Items {
					if it.Nested {
						var parts []string
						for _, s := range it.Settings {
							parts = append(parts, sprintf("%s=%s@%d:%d", s.Name, s.Value.Text(), s.Value.Pos.Line, s.Value.Pos.Column))
						}
						w("      %d:%d nested %s", it.Pos.Line, it.Pos.Column, strings.Join(parts, " "))
						continue
					}
					part := ""
					if it.Partition != nil {
						part = sprintf(" PARTITION %s@%d:%d", it.Partition.Text, it.Partition.Pos.Line, it.Partition.Pos.Column)
					}
					w("      %d:%d %s%s", it.Pos.Line, it.Pos.Column, it.Name.Text, part)
				}
			}
		}
	}
	w("end %d:%d", f.End.Line, f.End.Column)
	return b.String()
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{
			name: "comments, empty comment, blank lines, tabs, CRLF, BOM",
			src: "\uFEFF# header\r\n#\r\n\r\nAKU_STS_NAME\t=\taltibase-sts    # statefulsets name\r\n" +
				"AKU_SYS_PASSWORD = \"p#ss w\\\"o\\\\rd\" #\r\nAKU_PORT_NO=20300 #\r\n",
			want: `4:1 AKU_STS_NAME = "altibase-sts" quoted=false @4:16
5:1 AKU_SYS_PASSWORD = "p#ss w\"o\\rd" quoted=true @5:20
6:1 AKU_PORT_NO = "20300" quoted=false @6:13
end 7:1
`,
		},
		{
			name: "password characters allowed bare",
			src:  "AKU_SYS_PASSWORD = !@$%^&*;:'.-/\\x",
			want: `1:1 AKU_SYS_PASSWORD = "!@$%^&*;:'.-/\\x" quoted=false @1:20
end 1:35
`,
		},
		{
			name: "7.3 groups over lines",
			src: `REPLICATIONS = (
	REPLICATION_NAME_PREFIX = AKU_REP
	SYNC_PARALLEL_COUNT     = 1
	(
		SYS.T1, SYS.T2 partition P1,
		SYS.T3,
	)
),
(
	REPLICATION_NAME_PREFIX = AKU_REP2 ( SYS.T4 )
)
AKU_PORT_NO = 1
`,
			want: `1:1 REPLICATIONS
  group 1:16
    2:2 REPLICATION_NAME_PREFIX = "AKU_REP"
    3:2 SYNC_PARALLEL_COUNT = "1"
    items 4:2
      5:3 SYS.T1
      5:11 SYS.T2 PARTITION P1@5:28
      6:3 SYS.T3
  group 9:1
    10:2 REPLICATION_NAME_PREFIX = "AKU_REP2"
    items 10:37
      10:39 SYS.T4
12:1 AKU_PORT_NO = "1" quoted=false @12:15
end 13:1
`,
		},
		{
			name: "7.1 nested items, group list starting on the next line",
			src: `REPLICATIONS =
( REPLICATION_NAME_PREFIX = "AKU_REP" SYNC_PARALLEL_COUNT = 1
  ( ( USER_NAME = "SYS"
      TABLE_NAME = "T1" ),
    ( USER_NAME = "SYS" TABLE_NAME = "T2" PARTITION_NAME = "P1" ) ) )`,
			want: `1:1 REPLICATIONS
  group 2:1
    2:3 REPLICATION_NAME_PREFIX = "AKU_REP"
    2:39 SYNC_PARALLEL_COUNT = "1"
    items 3:3
      3:5 nested USER_NAME=SYS@3:19 TABLE_NAME=T1@4:20
      5:5 nested USER_NAME=SYS@5:19 TABLE_NAME=T2@5:38 PARTITION_NAME=P1@5:60
end 5:70
`,
		},
		{name: "empty file", src: "", want: "end 1:1\n"},
		{name: "only comments", src: "# a\n#\n", want: "end 3:1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("a.conf", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(f); got != tt.want {
				t.Errorf("tree\n got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
