package conf

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The property table of docs/configuration.md derives from propertyTable:
// every property is there, in the same order, with its default and range.
func TestDocsPropertyTable(t *testing.T) {
	data, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	var order []string
	for _, line := range strings.Split(string(data), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			continue
		}
		name := strings.TrimSpace(cells[1])
		if _, ok := properties[name]; !ok || rows[name] != nil {
			continue
		}
		rows[name] = cells
		order = append(order, name)
	}
	if fmt.Sprint(order) != fmt.Sprint(propertyOrder) {
		t.Errorf("docs/configuration.md lists\n%v\nwant the table's order\n%v", order, propertyOrder)
	}
	for _, p := range PropertyDefaults() {
		cells := rows[p.Name]
		if cells == nil || !p.Integer {
			continue
		}
		if def := strings.TrimSpace(cells[2]); def != strconv.FormatInt(p.Def, 10) {
			t.Errorf("%s: docs say default %q, the table %d", p.Name, def, p.Def)
		}
		want := fmt.Sprintf("%d–%d", p.Min, p.Max)
		if p.Min == 0 && p.Max == 1 {
			want = "0 or 1"
		}
		if rng := strings.TrimSpace(cells[3]); !strings.HasPrefix(rng, want) {
			t.Errorf("%s: docs say range %q, the table %s", p.Name, rng, want)
		}
	}
}
