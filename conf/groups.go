package conf

import (
	"strings"
	"unicode/utf8"

	"github.com/aku-project/aku/parser"
)

// groups validates the REPLICATIONS groups (docs/configuration.md, "Syntax"
// and "Properties").
func (d *decoder) groups(gs []*parser.Group) []Group {
	out := make([]Group, 0, len(gs))
	prefixes := map[string]int{} // upper-cased prefix -> line
	for _, g := range gs {
		grp := Group{Pos: pos(g.Pos), SyncParallelCount: 1}
		settings := map[string]*parser.Setting{}
		var list *parser.ItemList
		for _, m := range g.Members {
			if s := m.Setting; s != nil {
				if !contains(groupNames, s.Name) {
					d.errorf(pos(s.Pos), "%s", unknownProperty(s.Name, groupNames))
					continue
				}
				if prev, ok := settings[s.Name]; ok {
					d.errorf(pos(s.Pos), "duplicate property %s: already set at line %d", s.Name, prev.Pos.Line)
					continue
				}
				settings[s.Name] = s
				continue
			}
			if list != nil {
				d.errorf(pos(m.Items.Pos), "a replication group has one item list: this group's list starts at line %d", list.Pos.Line)
				continue
			}
			list = m.Items
		}
		if s := settings["REPLICATION_NAME_PREFIX"]; s == nil {
			d.errorf(grp.Pos, "%s", missing("REPLICATION_NAME_PREFIX"))
		} else {
			v := s.Value.Text()
			at := pos(s.Value.Pos)
			switch err := ValidIdentifier(v); {
			case err != nil:
				d.errorf(at, "REPLICATION_NAME_PREFIX: %v", err)
			case len(v) > MaxPrefixBytes:
				d.errorf(at, "REPLICATION_NAME_PREFIX %q is %d bytes long, more than %d (the object names %s_ij must fit in 40 bytes)", v, len(v), MaxPrefixBytes, v)
			default:
				grp.Prefix = strings.ToUpper(v)
				if line, ok := prefixes[grp.Prefix]; ok {
					d.errorf(at, "duplicate REPLICATION_NAME_PREFIX %s: already used by the group at line %d", grp.Prefix, line)
				}
				prefixes[grp.Prefix] = s.Value.Pos.Line
			}
		}
		if s := settings["SYNC_PARALLEL_COUNT"]; s != nil {
			if n, ok := d.integer(pos(s.Value.Pos), "SYNC_PARALLEL_COUNT", s.Value.Text(), 1, 100); ok {
				grp.SyncParallelCount = int(n)
			}
		}
		switch {
		case list == nil:
			d.errorf(grp.Pos, "the replication group has no item list: add ( USER.TABLE [PARTITION P], ... )")
		case len(list.Items) == 0:
			d.errorf(pos(list.Pos), "the replication item list is empty")
		default:
			grp.Items = d.items(list.Items)
		}
		out = append(out, grp)
	}
	return out
}

// items validates one group's items and rejects duplicates and overlaps.
// Each item is looked up in maps, so the check takes time in proportion to
// the number of items; whole tables, the usual case, need only the first.
func (d *decoder) items(list []*parser.Item) []Item {
	out := make([]Item, 0, len(list))
	wholes := make(map[string]int32, len(list)) // USER.TABLE -> its index in out
	partitions := map[string]int32{}            // USER.TABLE PARTITION P -> its index in out
	firsts := map[string]int32{}                // USER.TABLE -> index of its first listed partition
	for _, it := range list {
		item, ok := d.item(it)
		if !ok {
			continue
		}
		table := item.User + "." + item.Table
		if item.Partition == "" {
			if i, ok := wholes[table]; ok {
				d.errorf(item.Pos, "%s is listed twice in this group (first at line %d)", item, out[i].Pos.Line)
				continue
			}
			if i, ok := firsts[table]; ok {
				d.errorf(item.Pos, "%s overlaps its partition %s listed at line %d", item, out[i], out[i].Pos.Line)
			}
			wholes[table] = int32(len(out))
		} else {
			key := item.String()
			if i, ok := partitions[key]; ok {
				d.errorf(item.Pos, "%s is listed twice in this group (first at line %d)", item, out[i].Pos.Line)
				continue
			}
			if i, ok := wholes[table]; ok {
				d.errorf(item.Pos, "%s overlaps the whole table %s listed at line %d", item, out[i], out[i].Pos.Line)
				continue
			}
			if _, ok := firsts[table]; !ok {
				firsts[table] = int32(len(out))
			}
			partitions[key] = int32(len(out))
		}
		out = append(out, item)
	}
	return out
}

// item decodes a flat USER.TABLE [PARTITION P] or a nested item.
func (d *decoder) item(it *parser.Item) (Item, bool) {
	item := Item{Pos: pos(it.Pos)}
	ok := true
	name := func(what, v string, at Position) string {
		if err := ValidIdentifier(v); err != nil {
			d.errorf(at, "%s: %v", what, err)
			ok = false
			return ""
		}
		return strings.ToUpper(v)
	}
	if !it.Nested {
		text := it.Name.Text
		user, table, found := strings.Cut(text, ".")
		if !found || strings.Contains(table, ".") {
			d.errorf(pos(it.Name.Pos), "replication item %s: write USER.TABLE (with exactly one '.')", parser.Quote(text))
			return item, false
		}
		item.User = name("user name", user, pos(it.Name.Pos))
		at := pos(it.Name.Pos)
		at.Column += utf8.RuneCountInString(user) + 1 // columns count characters
		item.Table = name("table name", table, at)
		if it.Partition != nil {
			item.Partition = name("partition name", it.Partition.Text, pos(it.Partition.Pos))
		}
		return item, ok
	}
	settings := map[string]*parser.Setting{}
	for _, s := range it.Settings {
		if !contains(itemNames, s.Name) {
			d.errorf(pos(s.Pos), "%s", unknownProperty(s.Name, itemNames))
			ok = false
			continue
		}
		if prev, dup := settings[s.Name]; dup {
			d.errorf(pos(s.Pos), "duplicate property %s: already set at line %d", s.Name, prev.Pos.Line)
			ok = false
			continue
		}
		settings[s.Name] = s
	}
	for _, req := range []string{"USER_NAME", "TABLE_NAME"} {
		if settings[req] == nil {
			d.errorf(item.Pos, "%s", missing(req))
			ok = false
		}
	}
	if !ok {
		return item, false
	}
	get := func(key, what string) string {
		s := settings[key]
		if s == nil {
			return ""
		}
		return name(what, s.Value.Text(), pos(s.Value.Pos))
	}
	item.User = get("USER_NAME", "USER_NAME")
	item.Table = get("TABLE_NAME", "TABLE_NAME")
	item.Partition = get("PARTITION_NAME", "PARTITION_NAME")
	return item, ok
}

// String is the item as written in the flat form: USER.TABLE [PARTITION P].
func (it Item) String() string {
	s := it.User + "." + it.Table
	if it.Partition != "" {
		s += " PARTITION " + it.Partition
	}
	return s
}
