package conf

import (
	"fmt"
	"strings"
	"time"

	"github.com/aku-project/aku/parser"
)

type propertyKind int

const (
	kindString propertyKind = iota
	kindInt
	kindGroups
)

const maxUint32 = 1<<32 - 1

// property is one row of aku.conf's property table (docs/configuration.md,
// "Properties"). Decoding, the settings of aku -i and the docs' table all
// come from propertyTable: adding a property is adding a row (and its
// Config field).
type property struct {
	name          string
	kind          propertyKind
	def, min, max int64 // kindInt only
	// set stores a decoded integer in the configuration (kindInt only);
	// the string and group properties are decoded by decode itself, each
	// with checks of its own.
	set func(*Config, int64)
	// setting is the key of the property in aku -i's "settings" object,
	// and value its value there; "" for the properties -i shows elsewhere
	// (the server's, the password, REPLICATIONS).
	setting string
	value   func(*Config) any
	// extra are further settings of one property whose meaning its first
	// setting's JSON type cannot hold (AKU_REPLICATION_RESET_AT_END = 2);
	// they follow it in aku -i's "settings".
	extra []extraSetting
	// template marks a connection-string template, which may hold a
	// password: Settings passes its value through the caller's mask.
	template bool
}

// extraSetting is one more key of a property in aku -i's "settings".
type extraSetting struct {
	setting string
	value   func(*Config) any
}

// legacyPasswordKey is the misspelling of the vendor's 7.1 samples,
// accepted as AKU_SYS_PASSWORD with a warning (docs/configuration.md).
const legacyPasswordKey = "AKU_SYS_PASWWORD"

// propertyTable is every top-level property of aku.conf, in the order of
// the original's sample and docs/configuration.md.
var propertyTable = []property{
	{name: "AKU_STS_NAME", kind: kindString, setting: "stsName", value: func(c *Config) any { return c.StsName }},
	{name: "AKU_SVC_NAME", kind: kindString, setting: "svcName", value: func(c *Config) any { return c.SvcName }},
	{name: "AKU_SERVER_COUNT", kind: kindInt, def: 4, min: 1, max: 6, set: func(c *Config, n int64) { c.ServerCount = int(n) }},
	{name: "AKU_SYS_PASSWORD", kind: kindString},
	{name: "AKU_PORT_NO", kind: kindInt, def: 20300, min: 1024, max: 65535, set: func(c *Config, n int64) { c.PortNo = int(n) }},
	{name: "AKU_REPLICATION_PORT_NO", kind: kindInt, def: 20301, min: 1024, max: 65535, set: func(c *Config, n int64) { c.ReplicationPortNo = int(n) }},
	{name: "AKU_QUERY_TIMEOUT", kind: kindInt, def: 3600, min: 0, max: maxUint32, set: func(c *Config, n int64) { c.QueryTimeout = seconds(n) },
		setting: "queryTimeoutSeconds", value: func(c *Config) any { return int64(c.QueryTimeout / time.Second) }},
	{name: "AKU_QUERY_RETRY_COUNT", kind: kindInt, def: 5, min: 0, max: maxUint32, set: func(c *Config, n int64) { c.QueryRetryCount = n },
		setting: "queryRetryCount", value: func(c *Config) any { return c.QueryRetryCount }},
	{name: "AKU_QUERY_RETRY_DELAY_MSEC", kind: kindInt, def: 1000, min: 0, max: maxUint32, set: func(c *Config, n int64) { c.QueryRetryDelay = millis(n) },
		setting: "queryRetryDelayMsec", value: func(c *Config) any { return c.QueryRetryDelay.Milliseconds() }},
	{name: "AKU_ADDRESS_CHECK_COUNT", kind: kindInt, def: 30, min: 1, max: maxUint32, set: func(c *Config, n int64) { c.AddressCheckCount = int(n) },
		setting: "addressCheckCount", value: func(c *Config) any { return c.AddressCheckCount }},
	{name: "AKU_FLUSH_AT_START", kind: kindInt, def: 1, min: 0, max: 1, set: func(c *Config, n int64) { c.FlushAtStart = n == 1 },
		setting: "flushAtStart", value: func(c *Config) any { return c.FlushAtStart }},
	{name: "AKU_FLUSH_TIMEOUT_AT_START", kind: kindInt, def: 300, min: 0, max: maxUint32, set: func(c *Config, n int64) { c.FlushTimeoutAtStart = seconds(n) },
		setting: "flushTimeoutAtStartSeconds", value: func(c *Config) any { return int64(c.FlushTimeoutAtStart / time.Second) }},
	{name: "AKU_DELAY_START_COMPLETE_TIME", kind: kindInt, def: 0, min: 0, max: maxUint32, set: func(c *Config, n int64) { c.DelayStartComplete = seconds(n) },
		setting: "delayStartCompleteSeconds", value: func(c *Config) any { return int64(c.DelayStartComplete / time.Second) }},
	{name: "AKU_FLUSH_AT_END", kind: kindInt, def: 1, min: 0, max: 1, set: func(c *Config, n int64) { c.FlushAtEnd = n == 1 },
		setting: "flushAtEnd", value: func(c *Config) any { return c.FlushAtEnd }},
	{name: "AKU_REPLICATION_RESET_AT_END", kind: kindInt, def: 1, min: 0, max: 2, set: func(c *Config, n int64) { c.ReplicationResetAtEnd, c.ResetOnlyWhenLeaving = n >= 1, n == 2 },
		setting: "replicationResetAtEnd", value: func(c *Config) any { return c.ReplicationResetAtEnd },
		extra: []extraSetting{{setting: "resetOnlyWhenLeaving", value: func(c *Config) any { return c.ResetOnlyWhenLeaving }}}},
	{name: "AKU_OBSERVE_TIMEOUT", kind: kindInt, def: 10, min: 1, max: maxUint32, set: func(c *Config, n int64) { c.ObserveTimeout = seconds(n) },
		setting: "observeTimeoutSeconds", value: func(c *Config) any { return int64(c.ObserveTimeout / time.Second) }},
	{name: "AKU_SYSDBA_WAIT_TIME", kind: kindInt, def: 300, min: 0, max: maxUint32, set: func(c *Config, n int64) { c.SysdbaWait = seconds(n) },
		setting: "sysdbaWaitSeconds", value: func(c *Config) any { return int64(c.SysdbaWait / time.Second) }},
	{name: "AKU_STALE_PEER_TTL", kind: kindInt, def: 0, min: 0, max: maxUint32, set: func(c *Config, n int64) { c.StalePeerTTL = seconds(n) },
		setting: "stalePeerTtlSeconds", value: func(c *Config) any { return int64(c.StalePeerTTL / time.Second) }},
	{name: "AKU_KUBERNETES_PUBLISH", kind: kindInt, def: 0, min: 0, max: 1, set: func(c *Config, n int64) { c.KubernetesPublish = n == 1 },
		setting: "kubernetesPublish", value: func(c *Config) any { return c.KubernetesPublish }},
	{name: "AKU_CONNECTION_STRING", kind: kindString, setting: "connectionString", value: func(c *Config) any { return c.ConnectionString }, template: true},
	{name: "AKU_MONITOR_CONNECTION_STRING", kind: kindString},
	{name: "REPLICATIONS", kind: kindGroups},
}

// properties and propertyOrder index propertyTable by name and list its
// names in order.
var properties, propertyOrder = func() (map[string]property, []string) {
	m := make(map[string]property, len(propertyTable))
	var order []string
	for _, p := range propertyTable {
		m[p.name] = p
		order = append(order, p.name)
	}
	return m, order
}()

// Setting is one of the settings aku -i shows: its key and value.
type Setting struct {
	Key   string
	Value any
}

// Settings returns the settings of c that aku -i shows in its "settings"
// object, in the table's order (docs/json.md). Connection-string templates
// are passed through mask (which hides the passwords written into them);
// nil shows them as they are.
func (c *Config) Settings(mask func(template string) string) []Setting {
	var out []Setting
	for _, p := range propertyTable {
		if p.setting == "" {
			continue
		}
		v := p.value(c)
		if p.template && mask != nil {
			v = mask(v.(string))
		}
		out = append(out, Setting{Key: p.setting, Value: v})
		for _, e := range p.extra {
			out = append(out, Setting{Key: e.setting, Value: e.value(c)})
		}
	}
	return out
}

// PropertyDefault is one row of the property table as docs show it: the
// name, whether it is an integer, its default and range.
type PropertyDefault struct {
	Name          string
	Integer       bool
	Def, Min, Max int64
}

// PropertyDefaults lists the table's properties for documentation checks.
func PropertyDefaults() []PropertyDefault {
	out := make([]PropertyDefault, 0, len(propertyTable))
	for _, p := range propertyTable {
		out = append(out, PropertyDefault{Name: p.name, Integer: p.kind == kindInt, Def: p.def, Min: p.min, Max: p.max})
	}
	return out
}

// Names known at each level, for "did you mean" suggestions.
var (
	topLevelNames = propertyOrder
	groupNames    = []string{"REPLICATION_NAME_PREFIX", "SYNC_PARALLEL_COUNT"}
	itemNames     = []string{"USER_NAME", "TABLE_NAME", "PARTITION_NAME"}
)

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }
func millis(n int64) time.Duration  { return time.Duration(n) * time.Millisecond }

// unknownProperty is the message for a name not in known: it suggests the
// closest known name, and says where a name of another level belongs.
func unknownProperty(name string, known []string) string {
	for _, level := range [][]string{groupNames, itemNames, topLevelNames} {
		if sameNames(level, known) {
			continue
		}
		for _, k := range level {
			if k == name {
				return fmt.Sprintf("property %s is not allowed here: %s", name, where(k))
			}
		}
	}
	best, dist := closest(name, known)
	switch {
	case dist == 0:
		return fmt.Sprintf("unknown property %s: property names are upper-case (did you mean %s?)", parser.Quote(name), best)
	case dist > 0:
		return fmt.Sprintf("unknown property %s (did you mean %s?)", parser.Quote(name), best)
	default:
		return fmt.Sprintf("unknown property %s", parser.Quote(name))
	}
}

// closest returns the known name nearest to name, ignoring case, and its
// distance in edits, when that is close enough to suggest: at most
// max(2, len/3) edits; else a distance of -1. A name longer than every
// known name plus its allowance is at least that many edits from all of
// them, so it costs no edit distance at all (a 10 MB name once took 8.6 s).
func closest(name string, known []string) (string, int) {
	longest := 0
	for _, k := range known {
		longest = max(longest, len(k)+allowance(k))
	}
	if len(name) > longest {
		return "", -1
	}
	best, bestDist := "", -1
	up := strings.ToUpper(name)
	for _, k := range known {
		if dist := editDistance(up, k); bestDist < 0 || dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if bestDist < 0 || bestDist > allowance(best) {
		return "", -1
	}
	return best, bestDist
}

// allowance is how many edits away from known a name may be for known to
// be suggested.
func allowance(known string) int { return max(2, len(known)/3) }

func sameNames(a, b []string) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

func where(name string) string {
	switch {
	case contains(groupNames, name):
		return "it belongs inside a REPLICATIONS group"
	case contains(itemNames, name):
		return "it belongs inside a nested replication item ( USER_NAME = ... TABLE_NAME = ... )"
	default:
		return "it is a top-level property"
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
