package altisim

import (
	"fmt"
	"math"
	"sort"
)

// propDef describes one server property the simulator models
// (Altibase General Reference, "Altibase Properties").
type propDef struct {
	name     string
	def      int64
	min, max int64
	// system: ALTER SYSTEM SET may change it; session: ALTER SESSION SET.
	system, session bool
}

// propDefs are the modelled properties. REPLICATION_MAX_COUNT, PORT_NO,
// REPLICATION_PORT_NO, REPLICATION_SENDER_AUTO_START and LOG_FILE_SIZE are
// read-only at run time (Altibase General Reference, "Altibase Properties");
// they come from Options. LOG_FILE_SIZE defaults to the smallest size
// Altibase accepts, 64 KB, instead of its 100 MB, so that tests fill log
// files quickly (docs/altisim.md, "Log size and log files").
var propDefs = map[string]propDef{
	"ADMIN_MODE":                    {"ADMIN_MODE", 0, 0, 1, true, false},
	"REMOTE_SYSDBA_ENABLE":          {"REMOTE_SYSDBA_ENABLE", 1, 0, 1, true, false},
	"REPLICATION_DDL_ENABLE":        {"REPLICATION_DDL_ENABLE", 0, 0, 1, true, false},
	"REPLICATION_DDL_ENABLE_LEVEL":  {"REPLICATION_DDL_ENABLE_LEVEL", 0, 0, 1, true, false},
	"QUERY_TIMEOUT":                 {"QUERY_TIMEOUT", 600, 0, math.MaxUint32, true, true},
	"REPLICATION_MAX_COUNT":         {"REPLICATION_MAX_COUNT", 32, 0, 10240, false, false},
	"REPLICATION_PORT_NO":           {"REPLICATION_PORT_NO", 0, 0, 65535, false, false},
	"PORT_NO":                       {"PORT_NO", 20300, 1024, 65535, false, false},
	"REPLICATION_SENDER_AUTO_START": {"REPLICATION_SENDER_AUTO_START", 1, 0, 1, false, false},
	"REPLICATION_CONNECT_TIMEOUT":   {"REPLICATION_CONNECT_TIMEOUT", 10, 0, math.MaxUint32, true, false},
	"REPLICATION_SYNC_LOCK_TIMEOUT": {"REPLICATION_SYNC_LOCK_TIMEOUT", 30, 0, math.MaxUint32, true, false},
	"REPLICATION_SYNC_TUPLE_COUNT":  {"REPLICATION_SYNC_TUPLE_COUNT", 50000, 0, math.MaxInt64, true, false},
	"REPLICATION_GAP_UNIT":          {"REPLICATION_GAP_UNIT", 1 << 20, 1, math.MaxInt64, true, false},
	"LOG_FILE_SIZE":                 {"LOG_FILE_SIZE", 64 << 10, 64 << 10, math.MaxUint32, false, false},
}

// initialProperties applies Options over the defaults, as the
// ALTIBASE_<PROPERTY> environment variables override altibase.properties
// (docs/altisim.md, "Properties"). ALTER SYSTEM changes are not persisted:
// a restarted server starts again from these values, as Altibase does.
func initialProperties(o Options) (map[string]int64, error) {
	p := map[string]int64{}
	for n, d := range propDefs {
		p[n] = d.def
	}
	p["REPLICATION_PORT_NO"] = int64(o.ReplicationPort)
	for k, v := range o.Properties {
		d, ok := propDefs[k]
		if !ok {
			return nil, fmt.Errorf("setting property %s: not modelled by altisim", k)
		}
		if v < d.min || v > d.max {
			return nil, fmt.Errorf("setting property %s to %d: out of range [%d, %d]", k, v, d.min, d.max)
		}
		p[k] = v
	}
	return p, nil
}

// PropertyNames lists the properties the simulator models, in order: the
// names V$PROPERTY shows and Options.Properties accepts.
func PropertyNames() []string {
	names := make([]string, 0, len(propDefs))
	for n := range propDefs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
