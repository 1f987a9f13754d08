package pgwire

import "strings"

// SplitStatements splits the text of one Query message into its
// statements at ';', ignoring ';' inside '...' literals (a doubled quote
// escapes a quote), "..." identifiers and -- comments. Statements are trimmed, empty
// ones dropped.
func SplitStatements(q string) []string {
	var out []string
	start := 0
	add := func(end int) {
		if s := strings.TrimSpace(q[start:end]); s != "" {
			out = append(out, s)
		}
	}
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '\'', '"':
			quote := q[i]
			for i++; i < len(q); i++ {
				if q[i] == quote {
					if i+1 < len(q) && q[i+1] == quote {
						i++
						continue
					}
					break
				}
			}
		case '-':
			if i+1 < len(q) && q[i+1] == '-' {
				for i < len(q) && q[i] != '\n' {
					i++
				}
			}
		case ';':
			add(i)
			start = i + 1
		}
	}
	add(len(q))
	return out
}
