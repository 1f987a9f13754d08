package driver

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is a parsed data source name.
type Config struct {
	Cluster        string
	Host           string
	Port           int
	User           string
	Password       string
	SysDBA         bool
	ConnectTimeout time.Duration
}

// keyAliases maps every accepted key (upper case) to its canonical name.
var keyAliases = map[string]string{
	"CLUSTER": "CLUSTER",
	"HOST":    "HOST", "SERVER": "HOST", "DSN": "HOST", "HOSTNAME": "HOST",
	"PORT": "PORT", "PORT_NO": "PORT",
	"UID": "UID", "USER": "UID", "USERNAME": "UID", "USERID": "UID",
	"PWD": "PWD", "PASSWORD": "PWD",
	"PRIVILEGE":       "PRIVILEGE",
	"CONNECT_TIMEOUT": "CONNECT_TIMEOUT", "TIMEOUT": "CONNECT_TIMEOUT", "CONNECTION_TIMEOUT": "CONNECT_TIMEOUT",
}

// ParseDSN parses an ODBC-style connection string (see the package doc).
func ParseDSN(dsn string) (Config, error) {
	pairs, err := splitConnString(dsn)
	if err != nil {
		return Config{}, err
	}
	var c Config
	for _, p := range pairs {
		key, ok := keyAliases[strings.ToUpper(p[0])]
		if !ok {
			continue
		}
		v := p[1]
		switch key {
		case "CLUSTER":
			c.Cluster = v
		case "HOST":
			c.Host = v
		case "PORT":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 65535 {
				return Config{}, fmt.Errorf("parsing connection string: port %q is not a port number", v)
			}
			c.Port = n
		case "UID":
			c.User = v
		case "PWD":
			c.Password = v
		case "PRIVILEGE":
			switch strings.ToUpper(v) {
			case "SYSDBA":
				c.SysDBA = true
			case "", "NORMAL":
			default:
				return Config{}, fmt.Errorf("parsing connection string: unknown privilege %q", v)
			}
		case "CONNECT_TIMEOUT":
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || n < 0 {
				return Config{}, fmt.Errorf("parsing connection string: connect timeout %q is not a number of seconds", v)
			}
			c.ConnectTimeout = time.Duration(n * float64(time.Second))
		}
	}
	if c.Cluster == "" {
		return Config{}, fmt.Errorf("parsing connection string: no CLUSTER key")
	}
	if c.Host == "" {
		return Config{}, fmt.Errorf("parsing connection string: no HOST key")
	}
	return c, nil
}

// splitConnString splits "k1=v1;k2={v;2}" into key/value pairs, keys and
// unbraced values trimmed, as ODBC's SQLDriverConnect reads them.
func splitConnString(s string) ([][2]string, error) {
	var pairs [][2]string
	i := 0
	for i < len(s) {
		eq := strings.IndexByte(s[i:], '=')
		semi := strings.IndexByte(s[i:], ';')
		if eq < 0 || (semi >= 0 && semi < eq) {
			// A segment without '=': empty segments are allowed, others not.
			end := len(s)
			if semi >= 0 {
				end = i + semi
			}
			if seg := strings.TrimSpace(s[i:end]); seg != "" {
				return nil, fmt.Errorf("parsing connection string: %q is not key=value", seg)
			}
			i = end + 1
			continue
		}
		key := strings.TrimSpace(s[i : i+eq])
		i += eq + 1
		for i < len(s) && s[i] == ' ' {
			i++
		}
		var val strings.Builder
		if i < len(s) && s[i] == '{' {
			i++
			closed := false
			for i < len(s) {
				if s[i] == '}' {
					if i+1 < len(s) && s[i+1] == '}' {
						val.WriteByte('}')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				val.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("parsing connection string: value of %s: unclosed '{'", key)
			}
			for i < len(s) && s[i] != ';' {
				if s[i] != ' ' {
					return nil, fmt.Errorf("parsing connection string: value of %s: text after '}'", key)
				}
				i++
			}
		} else {
			end := strings.IndexByte(s[i:], ';')
			if end < 0 {
				end = len(s) - i
			}
			val.WriteString(strings.TrimSpace(s[i : i+end]))
			i += end
		}
		i++ // the ';'
		if key == "" {
			return nil, fmt.Errorf("parsing connection string: empty key")
		}
		pairs = append(pairs, [2]string{key, val.String()})
	}
	return pairs, nil
}

// Template is the connection-string template (with aku's {host}, {port},
// {user} and {password} placeholders, docs/odbc.md) that reaches the
// servers of the in-process cluster named cluster as SYSDBA through this
// driver, each connect waiting at most connectTimeout. Tests give it to a
// replication.Dialer or as AKU_CONNECTION_STRING.
func Template(cluster string, connectTimeout time.Duration) string {
	return "CLUSTER=" + cluster + ";HOST={host};PORT={port};UID={user};PWD={password};PRIVILEGE=SYSDBA;CONNECT_TIMEOUT=" +
		strconv.FormatFloat(connectTimeout.Seconds(), 'f', -1, 64)
}
