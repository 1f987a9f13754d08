package conf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aku-project/aku/parser"
)

// MaxIdentifierBytes is the longest user, table or partition name aku
// accepts (docs/configuration.md, "Properties": at most 128 bytes).
const MaxIdentifierBytes = 128

// ValidIdentifier reports whether s can be written, unquoted, as an Altibase
// object name (user, table, partition, replication) inside a SQL statement:
// an ASCII letter or '_' first, then letters, digits, '_' or '$', at most
// 128 bytes, and not a reserved word. Altibase folds unquoted names to upper
// case, so the check is case-insensitive; conf stores names upper-cased.
//
// Because nothing but these characters passes, no configuration value can
// change the meaning of a statement aku builds (issue 2, item 4).
func ValidIdentifier(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	if len(s) > MaxIdentifierBytes {
		return fmt.Errorf("name %s is %d bytes long, more than %d", parser.Quote(s), len(s), MaxIdentifierBytes)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '$'):
		case i == 0:
			return fmt.Errorf("name %q must start with a letter or '_'", s)
		default:
			return fmt.Errorf("name %q contains %s: names may contain only letters, digits, '_' and '$'", s, quoteChar(s[i:]))
		}
	}
	if reservedWords[strings.ToUpper(s)] {
		return fmt.Errorf("name %q is an Altibase reserved word", s)
	}
	return nil
}

// quoteChar quotes the character s starts with, as %q quotes a rune: the
// whole character, not its first byte ('ś', not 'Å'), or the byte in hex
// when s does not start with valid UTF-8.
func quoteChar(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size <= 1 {
		return fmt.Sprintf(`'\x%02x'`, s[0])
	}
	return strconv.QuoteRune(r)
}

// reservedWords are SQL reserved words that cannot be an unquoted object
// name in Altibase, limited to the core that every SQL dialect reserves and
// the words of the statements aku builds (CREATE/ALTER REPLICATION ... FROM
// ... TO ..., TRUNCATE TABLE ...). It is deliberately short: a name wrongly
// rejected here would make a working configuration unusable.
var reservedWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
ALL ALTER AND ANY AS ASC BETWEEN BY CASE CHECK COLUMN CONSTRAINT CREATE
DEFAULT DELETE DESC DISTINCT DROP ELSE END EXISTS FALSE FOR FOREIGN FROM
GRANT GROUP HAVING IN INSERT INTO IS JOIN LIKE NOT NULL OF ON OR ORDER
PARTITION PRIMARY REPLICATION REVOKE SELECT SET TABLE THEN TO TRUE UNION
UNIQUE UPDATE VALUES WHEN WHERE WITH
`) {
		reservedWords[w] = true
	}
}
