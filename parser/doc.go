// Package parser is the aku.conf grammar: a hand-written lexer and a
// participle grammar that turn the file into a syntax tree in which every
// node keeps its position (docs/configuration.md, "Syntax"). It knows
// nothing about what the properties mean; package conf validates the tree
// and reports meaning errors at the nodes' positions.
//
// The lexical rules, decided here because the original's manual (Altibase
// Utilities Manual, chapter "aku") is silent (docs/configuration.md,
// "Syntax", documents them for users):
//
//   - `#` starts a comment that runs to the end of the line; an empty `#` is
//     a comment too. A `#` glued to the end of a bare value (`pa#ss`) is
//     rejected as ambiguous: put a space before a comment, or quote the value.
//   - A bare value is a run of characters other than white space, `#`, `"`,
//     `=`, `(`, `)` and `,`.
//   - A quoted value is enclosed in double quotes on one line; inside it,
//     `\"` is a double quote and `\\` a backslash; any other backslash is an
//     error. Quoting is how a value with spaces, `#`, `=`, `(`, `)`, `,` or
//     quotes is written.
//   - At the top level a line break ends a property. Inside parentheses line
//     breaks are white space, and a line break next to a `,` or before a `(`
//     is too, so REPLICATIONS groups and items may be spread over lines.
//   - CRLF line endings, tabs, blank lines and a leading UTF-8 byte order mark
//     are accepted.
//
// Positions count lines and columns from 1; a column counts characters
// (Unicode code points), so a tab or an 'ś' is one column, and the byte
// order mark is not counted. Messages quote a value of more than QuoteWhole
// characters by its first QuoteHead (Quote). Parsing takes time and memory
// in proportion to the file, and a file is limited to MaxTokens tokens;
// docs/configuration.md documents both for users.
package parser
