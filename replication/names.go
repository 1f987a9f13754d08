package replication

import (
	"strconv"

	"github.com/aku-project/aku/conf"
)

// ObjectName is the name of the replication object between the servers
// with ordinals i and j for a group with this prefix: PREFIX_ij with the
// lower ordinal first (docs/behaviour.md, "Replication objects"). Ordinals
// are 0..5 (AKU_SERVER_COUNT ≤ 6), so each is one digit.
func ObjectName(prefix string, i, j int) string {
	if i > j {
		i, j = j, i
	}
	return prefix + "_" + strconv.Itoa(i) + strconv.Itoa(j)
}

// Object is one replication object on a server.
type Object struct {
	Name  string
	Group int // index in cfg.Groups
	Peer  int // the other server's ordinal
}

// Objects are the replication objects of the server with this ordinal, by
// group then peer ordinal: one per group and per other server among
// 0..AKU_SERVER_COUNT−1 (docs/behaviour.md, "Replication objects").
func Objects(cfg *conf.Config, ordinal int) []Object {
	if cfg.ServerCount < 2 {
		return nil
	}
	objs := make([]Object, 0, len(cfg.Groups)*(cfg.ServerCount-1))
	for g, grp := range cfg.Groups {
		for peer := 0; peer < cfg.ServerCount; peer++ {
			if peer == ordinal {
				continue
			}
			objs = append(objs, Object{Name: ObjectName(grp.Prefix, ordinal, peer), Group: g, Peer: peer})
		}
	}
	return objs
}
