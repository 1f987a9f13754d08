package conf

import (
	"fmt"
	"strings"
	"time"
)

type propertyKind int

const (
	kindString propertyKind = iota
	kindInt
	kindGroups
)

const maxUint32 = 1<<32 - 1

// property is one row of the table in spec §3.2.
type property struct {
	kind          propertyKind
	def, min, max int64 // kindInt only
}

// legacyPasswordKey is the misspelling of the vendor's 7.1 samples,
// accepted as AKU_SYS_PASSWORD with a warning (spec §12).
const legacyPasswordKey = "AKU_SYS_PASWWORD"

// properties are the top-level properties of aku.conf (spec §3.2, §12).
var properties = map[string]property{
	"AKU_STS_NAME":                  {kind: kindString},
	"AKU_SVC_NAME":                  {kind: kindString},
	"AKU_SERVER_COUNT":              {kindInt, 4, 1, 6},
	"AKU_SYS_PASSWORD":              {kind: kindString},
	"AKU_PORT_NO":                   {kindInt, 20300, 1024, 65535},
	"AKU_REPLICATION_PORT_NO":       {kindInt, 20301, 1024, 65535},
	"AKU_QUERY_TIMEOUT":             {kindInt, 3600, 0, maxUint32},
	"AKU_QUERY_RETRY_COUNT":         {kindInt, 5, 0, maxUint32},
	"AKU_QUERY_RETRY_DELAY_MSEC":    {kindInt, 1000, 0, maxUint32},
	"AKU_ADDRESS_CHECK_COUNT":       {kindInt, 30, 1, maxUint32},
	"AKU_FLUSH_AT_START":            {kindInt, 1, 0, 1},
	"AKU_FLUSH_TIMEOUT_AT_START":    {kindInt, 300, 0, maxUint32},
	"AKU_DELAY_START_COMPLETE_TIME": {kindInt, 0, 0, maxUint32},
	"AKU_FLUSH_AT_END":              {kindInt, 1, 0, 1},
	"AKU_REPLICATION_RESET_AT_END":  {kindInt, 1, 0, 1},
	"AKU_OBSERVE_TIMEOUT":           {kindInt, 10, 1, maxUint32},
	"AKU_SYSDBA_WAIT_TIME":          {kindInt, 300, 0, maxUint32},
	"AKU_CONNECTION_STRING":         {kind: kindString},
	"AKU_MONITOR_CONNECTION_STRING": {kind: kindString},
	"REPLICATIONS":                  {kind: kindGroups},
}

// propertyOrder is the order of spec §3.2, for deterministic checks.
var propertyOrder = []string{
	"AKU_STS_NAME", "AKU_SVC_NAME", "AKU_SERVER_COUNT", "AKU_SYS_PASSWORD",
	"AKU_PORT_NO", "AKU_REPLICATION_PORT_NO", "AKU_QUERY_TIMEOUT",
	"AKU_QUERY_RETRY_COUNT", "AKU_QUERY_RETRY_DELAY_MSEC",
	"AKU_ADDRESS_CHECK_COUNT", "AKU_FLUSH_AT_START", "AKU_FLUSH_TIMEOUT_AT_START",
	"AKU_DELAY_START_COMPLETE_TIME", "AKU_FLUSH_AT_END",
	"AKU_REPLICATION_RESET_AT_END", "AKU_OBSERVE_TIMEOUT", "AKU_SYSDBA_WAIT_TIME",
	"AKU_CONNECTION_STRING", "AKU_MONITOR_CONNECTION_STRING", "REPLICATIONS",
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
	best, bestDist := "", -1
	up := strings.ToUpper(name)
	for _, k := range known {
		if dist := editDistance(up, k); bestDist < 0 || dist < bestDist {
			best, bestDist = k, dist
		}
	}
	switch {
	case bestDist == 0:
		return fmt.Sprintf("unknown property %q: property names are upper-case (did you mean %s?)", name, best)
	case bestDist >= 0 && bestDist <= max(2, len(best)/3):
		return fmt.Sprintf("unknown property %q (did you mean %s?)", name, best)
	default:
		return fmt.Sprintf("unknown property %q", name)
	}
}

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
