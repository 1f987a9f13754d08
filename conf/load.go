package conf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/aku-project/aku/parser"
)

// Overrides are the values the process environment gives for properties
// of aku.conf (docs/configuration.md, "Overrides from the environment").
// cmd/aku fills them in; conf never reads the environment itself.
type Overrides struct {
	SysPassword         string // AKU_SYS_PASSWORD from the environment
	SysPasswordSet      bool
	SysPasswordFile     string // AKU_SYS_PASSWORD_FILE: read the password from this file (trim one trailing newline)
	ConnectionString    string // AKU_CONNECTION_STRING from the environment
	ConnectionStringSet bool
	// MonitorConnectionString is AKU_MONITOR_CONNECTION_STRING from the
	// environment.
	MonitorConnectionString    string
	MonitorConnectionStringSet bool
}

// Password sources recorded in Config.PasswordSource.
const (
	SourceFile        = "file"
	SourceEnvironment = "environment"
	SourceSecretFile  = "secret file"
)

// Limits from docs/configuration.md, "Properties", and the server: a
// replication name is at most 40 bytes (Altibase General Reference,
// "SYS_REPLICATIONS_"), and a server holds at most REPLICATION_MAX_COUNT
// objects (Altibase General Reference, "REPLICATION_MAX_COUNT").
const (
	MaxDNSLabelBytes    = 63 // AKU_STS_NAME, AKU_SVC_NAME
	MaxPrefixBytes      = 37 // REPLICATION_NAME_PREFIX: 40 minus "_ij"
	MaxReplicationCount = 32 // the server's REPLICATION_MAX_COUNT default
	maxErrors           = 20 // errors reported at once; the rest are dropped
)

// Size limits of the files aku reads (docs/configuration.md). A real
// aku.conf is a few kilobytes and a password a few dozen bytes; the limits
// are far above both, and low enough that a wrong path (/dev/zero, a log
// file) fails at once with a clear error instead of exhausting memory.
const (
	MaxConfigBytes   = 16 << 20 // aku.conf
	MaxPasswordBytes = 64 << 10 // the file named by AKU_SYS_PASSWORD_FILE
)

// Load reads and validates the configuration at path, which must be a
// regular file of at most MaxConfigBytes. Besides Parse's warnings it warns
// when the file holds a password and is readable by group or others.
func Load(path string, ov Overrides) (*Config, []Warning, error) {
	src, fi, err := readFile(path, MaxConfigBytes, "an aku.conf")
	if err != nil {
		return nil, nil, &Error{Pos: Position{File: path}, Msg: fmt.Sprintf("reading the configuration: %v", err)}
	}
	cfg, warnings, pwPos, err := parse(path, src, ov)
	if err != nil {
		return nil, warnings, err
	}
	if pwPos.Line > 0 && fi.Mode().Perm()&0o044 != 0 {
		warnings = append(warnings, Warning{Pos: pwPos, Message: fmt.Sprintf(
			"the file holds the SYS password and is readable by group or others (mode %04o): chmod 600 it, or give the password in AKU_SYS_PASSWORD_FILE",
			fi.Mode().Perm())})
	}
	return cfg, warnings, nil
}

// readFile reads the regular file at path, of at most limit bytes (what
// names the kind of file in the message). It opens with O_NONBLOCK, so that
// a named pipe cannot block it, and checks what it opened before reading:
// a device such as /dev/zero, a pipe or a directory is refused, and so is a
// file over the limit. Symbolic links are followed: Kubernetes mounts
// ConfigMaps and Secrets through them. The error says what is wrong,
// without the path (the caller's message starts with it).
func readFile(path string, limit int64, what string) ([]byte, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
			return nil, nil, notRegular(fi) // a socket cannot be opened (ENXIO)
		}
		return nil, nil, unwrapPathError(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, unwrapPathError(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, notRegular(fi)
	}
	tooLarge := fmt.Errorf("the file is larger than the %d MiB %s may be", limit>>20, what)
	if limit < 1<<20 {
		tooLarge = fmt.Errorf("the file is larger than the %d KiB %s may be", limit>>10, what)
	}
	if fi.Size() > limit {
		return nil, nil, tooLarge
	}
	// The size may change under the read: read one byte past the limit.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, nil, unwrapPathError(err)
	}
	if int64(len(b)) > limit {
		return nil, nil, tooLarge
	}
	return b, fi, nil
}

// notRegular says what fi is instead of a regular file.
func notRegular(fi fs.FileInfo) error {
	kind := "not a regular file"
	switch t := fi.Mode().Type(); {
	case t&fs.ModeDir != 0:
		kind = "a directory"
	case t&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case t&fs.ModeSocket != 0:
		kind = "a socket"
	case t&fs.ModeCharDevice != 0:
		kind = "a character device"
	case t&fs.ModeDevice != 0:
		kind = "a block device"
	}
	return fmt.Errorf("it is %s, not a regular file", kind)
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse validates the configuration src, read from filename, applying the
// overrides. The error, when not nil, wraps ErrInvalid and holds one line
// "<file>:<line>:<col>: <what is wrong>" per problem found.
func Parse(filename string, src []byte, ov Overrides) (*Config, []Warning, error) {
	cfg, warnings, _, err := parse(filename, src, ov)
	return cfg, warnings, err
}

// Masked stands for a secret in aku's output.
const Masked = "********"

// secretProperties hold a password, or may (a connection string with PWD=).
var secretProperties = []string{"AKU_SYS_PASSWORD", legacyPasswordKey, "AKU_CONNECTION_STRING", "AKU_MONITOR_CONNECTION_STRING"}

// quotedInMessage is a quoted fragment of the source in a syntax error.
var quotedInMessage = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// maskOnSecretLine returns msg, a syntax error at line of src, with every
// quoted fragment masked when that line sets a secret property: the
// parser quotes the text it stumbled on, which there is part of a password.
func maskOnSecretLine(src []byte, line int, msg string) string {
	text := src
	for i := 1; i < line; i++ {
		nl := bytes.IndexByte(text, '\n')
		if nl < 0 {
			return msg
		}
		text = text[nl+1:]
	}
	if nl := bytes.IndexByte(text, '\n'); nl >= 0 {
		text = text[:nl]
	}
	name := strings.FieldsFunc(string(text), func(r rune) bool { return r == ' ' || r == '\t' || r == '=' || r == '\ufeff' })
	if len(name) == 0 || !slices.Contains(secretProperties, name[0]) {
		return msg
	}
	return quotedInMessage.ReplaceAllLiteralString(msg, `"`+Masked+`"`)
}

// decoder collects the errors and warnings of one validation.
type decoder struct {
	file     string
	errs     []*Error
	warnings []Warning
}

func (d *decoder) errorf(pos Position, format string, args ...any) {
	d.errs = append(d.errs, errorAt(pos, format, args...))
}

func (d *decoder) warnf(pos Position, format string, args ...any) {
	d.warnings = append(d.warnings, Warning{Pos: pos, Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	sort.SliceStable(d.errs, func(i, j int) bool {
		a, b := d.errs[i].Pos, d.errs[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	if len(d.errs) > maxErrors {
		d.errs = d.errs[:maxErrors]
	}
	if len(d.errs) == 1 {
		return d.errs[0]
	}
	errs := make([]error, len(d.errs))
	for i, e := range d.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

func pos(p lexer.Position) Position {
	return Position{File: p.Filename, Line: p.Line, Column: p.Column}
}

// missing is the original's exact message for a required property (Altibase
// Utilities Manual, chapter "aku"; docs/configuration.md, "Overrides from the
// environment").
func missing(name string) string {
	return fmt.Sprintf("Property [%s] should be specified by configuration.", name)
}

func parse(filename string, src []byte, ov Overrides) (*Config, []Warning, Position, error) {
	f, err := parser.Parse(filename, src)
	if err != nil {
		var pe *parser.Error
		if errors.As(err, &pe) {
			return nil, nil, Position{}, &Error{Pos: pos(pe.Pos), Msg: maskOnSecretLine(src, pe.Pos.Line, pe.Msg)}
		}
		return nil, nil, Position{}, &Error{Pos: Position{File: filename}, Msg: err.Error()}
	}
	d := &decoder{file: filename}
	cfg, pwPos := d.decode(f, ov)
	if err := d.err(); err != nil {
		return nil, d.warnings, pwPos, err
	}
	return cfg, d.warnings, pwPos, nil
}

// decode validates the syntax tree; problems are collected in d.
func (d *decoder) decode(f *parser.File, ov Overrides) (*Config, Position) {
	end := pos(f.End)
	entries := map[string]*parser.Entry{}
	for _, e := range f.Entries {
		name := e.Name
		if name == legacyPasswordKey {
			d.warnf(pos(e.Pos), "%s is the legacy misspelling of %s: rename it", legacyPasswordKey, "AKU_SYS_PASSWORD")
			name = "AKU_SYS_PASSWORD"
		}
		if _, ok := properties[name]; !ok {
			d.errorf(pos(e.Pos), "%s", unknownProperty(e.Name, topLevelNames))
			continue
		}
		if prev, ok := entries[name]; ok {
			if prev.Name == e.Name {
				d.errorf(pos(e.Pos), "duplicate property %s: already set at line %d", e.Name, prev.Pos.Line)
			} else {
				d.errorf(pos(e.Pos), "duplicate property %s: already set at line %d as %s (%s is the legacy spelling of %s)",
					e.Name, prev.Pos.Line, prev.Name, legacyPasswordKey, name)
			}
			continue
		}
		entries[name] = e
	}

	cfg := &Config{File: d.fileName(), SysUser: "SYS"}
	for _, name := range propertyOrder {
		p := properties[name]
		e := entries[name]
		if e == nil {
			continue
		}
		if p.kind == kindGroups {
			if e.Groups == nil {
				d.errorf(pos(e.Value.Pos), "%s takes groups in parentheses: %s = ( REPLICATION_NAME_PREFIX = ... ( USER.TABLE, ... ) )", name, name)
			}
			continue
		}
		if e.Groups != nil {
			d.errorf(pos(e.Groups[0].Pos), "%s takes a single value, not a list in parentheses", e.Name)
			delete(entries, name)
		}
	}

	str := func(name string) (string, Position, bool) {
		e := entries[name]
		if e == nil || e.Value == nil {
			return "", Position{}, false
		}
		return e.Value.Text(), pos(e.Value.Pos), true
	}
	num := func(name string) int64 {
		p := properties[name]
		v, at, ok := str(name)
		if !ok {
			return p.def
		}
		n, ok := d.integer(at, name, v, p.min, p.max)
		if !ok {
			return p.def
		}
		return n
	}

	for _, name := range []string{"AKU_STS_NAME", "AKU_SVC_NAME"} {
		v, at, ok := str(name)
		if !ok {
			if entries[name] == nil {
				d.errorf(end, "%s", missing(name))
			}
			continue
		}
		if err := validDNSLabel(v); err != nil {
			d.errorf(at, "%s %s %v: it forms the pod host names <AKU_STS_NAME>-<n>.<AKU_SVC_NAME>", name, parser.Quote(v), err)
			continue
		}
		if name == "AKU_STS_NAME" {
			cfg.StsName = v
		} else {
			cfg.SvcName = v
		}
	}
	for _, p := range propertyTable {
		if p.kind == kindInt {
			p.set(cfg, num(p.name))
		}
	}
	if cfg.PortNo == cfg.ReplicationPortNo {
		if e := entries["AKU_REPLICATION_PORT_NO"]; e != nil {
			d.errorf(pos(e.Value.Pos), "AKU_REPLICATION_PORT_NO %d is the same as AKU_PORT_NO", cfg.ReplicationPortNo)
		} else if e := entries["AKU_PORT_NO"]; e != nil {
			d.errorf(pos(e.Value.Pos), "AKU_PORT_NO %d is the same as AKU_REPLICATION_PORT_NO", cfg.PortNo)
		}
	}

	pwPos := d.password(cfg, entries, ov, end)
	cfg.ConnectionString = d.template(entries, "AKU_CONNECTION_STRING", ov.ConnectionString, ov.ConnectionStringSet)
	cfg.MonitorConnectionString = d.template(entries, "AKU_MONITOR_CONNECTION_STRING", ov.MonitorConnectionString, ov.MonitorConnectionStringSet)

	if e := entries["REPLICATIONS"]; e == nil {
		d.errorf(end, "%s", missing("REPLICATIONS"))
	} else if e.Groups != nil {
		cfg.Groups = d.groups(e.Groups)
		if n := len(e.Groups) * (cfg.ServerCount - 1); n > MaxReplicationCount {
			d.errorf(pos(e.Pos), "REPLICATIONS: %d groups × (AKU_SERVER_COUNT %d − 1) = %d replication objects on each pod, more than the server's REPLICATION_MAX_COUNT (%d)",
				len(e.Groups), cfg.ServerCount, n, MaxReplicationCount)
		}
	}
	return cfg, pwPos
}

func (d *decoder) fileName() string { return d.file }

// password applies docs/configuration.md, "Overrides from the environment":
// AKU_SYS_PASSWORD from the environment wins, then AKU_SYS_PASSWORD_FILE,
// then the file's value. It returns the position of the file's password, if
// the file holds one.
func (d *decoder) password(cfg *Config, entries map[string]*parser.Entry, ov Overrides, end Position) Position {
	var filePos Position
	if e := entries["AKU_SYS_PASSWORD"]; e != nil && e.Value != nil {
		filePos = pos(e.Value.Pos)
		cfg.SysPassword = e.Value.Text()
		cfg.PasswordSource = SourceFile
		if cfg.SysPassword == "" {
			d.errorf(filePos, "%s is empty", e.Name)
		}
	}
	switch {
	case ov.SysPasswordSet:
		if ov.SysPasswordFile != "" {
			d.warnf(Position{}, "AKU_SYS_PASSWORD_FILE is ignored: AKU_SYS_PASSWORD is set in the environment and wins")
		}
		if ov.SysPassword == "" {
			d.errorf(Position{}, "AKU_SYS_PASSWORD is set in the environment but empty")
			return filePos
		}
		cfg.SysPassword, cfg.PasswordSource = ov.SysPassword, SourceEnvironment
	case ov.SysPasswordFile != "":
		b, _, err := readFile(ov.SysPasswordFile, MaxPasswordBytes, "a password file")
		if err != nil {
			d.errorf(Position{File: ov.SysPasswordFile}, "reading the password named by AKU_SYS_PASSWORD_FILE: %v", err)
			return filePos
		}
		s := string(b)
		if strings.HasSuffix(s, "\n") {
			s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
		}
		if s == "" {
			d.errorf(Position{File: ov.SysPasswordFile}, "the password file named by AKU_SYS_PASSWORD_FILE is empty")
			return filePos
		}
		cfg.SysPassword, cfg.PasswordSource = s, SourceSecretFile
	case cfg.PasswordSource == "":
		if entries["AKU_SYS_PASSWORD"] == nil {
			d.errorf(end, "%s", missing("AKU_SYS_PASSWORD"))
		}
	}
	return filePos
}

// template returns the connection-string template property name (both
// templates must contain {host}); the environment's value (env, when set
// and not empty) wins over aku.conf's.
func (d *decoder) template(entries map[string]*parser.Entry, name, env string, envSet bool) string {
	if envSet && env != "" {
		if !strings.Contains(env, "{host}") {
			d.errorf(Position{}, "%s from the environment must contain {host}", name)
			return ""
		}
		return env
	}
	e := entries[name]
	if e == nil || e.Value == nil {
		return ""
	}
	v := e.Value.Text()
	if !strings.Contains(v, "{host}") {
		d.errorf(pos(e.Value.Pos), "%s must contain {host}", name)
		return ""
	}
	return v
}

// integer parses a decimal integer value and checks its range. A number
// out of range, however long, is reported with the range it must be in.
func (d *decoder) integer(at Position, name, v string, lo, hi int64) (int64, bool) {
	digits := strings.TrimPrefix(v, "-")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		d.errorf(at, "%s %s is not an integer", name, parser.Quote(v))
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		shown := v
		if len(v) > 20 { // past int64: not every digit
			shown = fmt.Sprintf("%s… (%d digits)", v[:16], len(digits))
		}
		if lo == 0 && hi == 1 {
			d.errorf(at, "%s must be 0 or 1, not %s", name, shown)
		} else {
			d.errorf(at, "%s must be between %d and %d, not %s", name, lo, hi, shown)
		}
		return 0, false
	}
	return n, true
}

// validDNSLabel checks an RFC 1123 label: letters, digits and '-',
// starting and ending with a letter or digit, at most 63 bytes. Upper-case
// letters are accepted because DNS names are case-insensitive.
func validDNSLabel(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if len(s) > MaxDNSLabelBytes {
		return fmt.Errorf("is %d bytes long, more than %d", len(s), MaxDNSLabelBytes)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && c != '-' {
			return fmt.Errorf("is not a DNS label (only letters, digits and '-' are allowed, found %s)", quoteChar(s[i:]))
		}
		if !alnum && (i == 0 || i == len(s)-1) {
			return errors.New("is not a DNS label (it must start and end with a letter or digit)")
		}
	}
	return nil
}
