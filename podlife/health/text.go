package health

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// TextWidth is the width the text form of a Report keeps within, for
// six pods with aku.conf's default prefix: every line of the tables, and
// the findings wrapped to it.
const TextWidth = 100

// WriteText writes the Report for people (docs/status.md, "Reading the
// table"): a headline, a table of the servers, one of the pairs (two lines
// each, one per side) and the findings with their fixes. A value aku could
// not read shows as "?", never as 0.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "aku status from %s at %s: %s", r.Pod, r.Time.UTC().Format("2006-01-02 15:04:05 UTC"), strings.ToUpper(string(r.Health)))
	switch n := len(r.Findings); n {
	case 0:
	case 1:
		b.WriteString(", 1 finding")
	default:
		fmt.Fprintf(&b, ", %d findings", n)
	}
	b.WriteString("\n\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tROLE\tSTATE\tADMIN_MODE\tLOG FILE")
	var self string
	for _, s := range r.Servers {
		name := s.Host[:strings.IndexByte(s.Host+".", '.')]
		if s.Self {
			name += " *"
			self = fmt.Sprintf("* this pod: start %s", *s.Start)
			if *s.Marker {
				self += " (marker written)"
			}
		}
		via := ""
		if s.ViaSysdba {
			via = " (read as SYSDBA)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s\t%s\t%s\n", name, s.Role, s.State, via, num(s.AdminMode), num(s.LogFile))
	}
	tw.Flush()
	if self != "" {
		b.WriteString(self + "\n")
	}

	if len(r.Pairs) > 0 {
		b.WriteString("\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PAIR\tSIDE\tDEFINED\tSTARTED\tXSN\tSENDER\tRECV\tGAP\tHELD\tSYNC")
		for _, p := range r.Pairs {
			for k, s := range p.Sides {
				name := p.Name
				if k == 1 {
					name = ""
				}
				fmt.Fprintf(tw, "%s\t%d->%d\t%s\n", name, s.Ordinal, s.Peer, strings.Join(sideCells(s), "\t"))
			}
		}
		tw.Flush()
		b.WriteString("RECV: the peer's sender is connected here; GAP: log bytes the sender has not had\n" +
			"acknowledged; HELD: log files kept for it; SYNC: rows a running SYNC sent;\n" +
			"?: not known (the server was not read, or has no such thread); -: does not apply\n")
	}

	if len(r.Findings) > 0 {
		b.WriteString("\nFINDINGS\n")
		for i, f := range r.Findings {
			head := fmt.Sprintf("%d. ", i+1)
			indent := strings.Repeat(" ", len(head))
			wrap(&b, head, indent, "["+string(f.Kind)+"] "+f.Message)
			wrap(&b, indent+"fix: ", indent+"     ", f.Fix)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sideCells are the table cells of one side after its SIDE column.
func sideCells(s Side) []string {
	switch {
	case !s.Read:
		return []string{"?", "?", "?", "?", "?", "?", "?", "?"}
	case !*s.Exists:
		return []string{"no", "-", "-", "-", "-", "-", "-", "-"}
	}
	defined := "yes"
	if !*s.MatchesConfig {
		defined = "drift"
	}
	sender := "none"
	if s.Sender != nil {
		sender = s.Sender.Status
		if s.Sender.NetError {
			sender += "!"
		}
	}
	return []string{defined, yesNo(*s.Started), num(s.XSN), sender, yesNo(*s.Receiver),
		bytes(s.GapBytes), num(s.HeldLogFiles), syncCell(s.Sync)}
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// num is a value or "?" when it is not known.
func num(v *int64) string {
	if v == nil {
		return "?"
	}
	return strconv.FormatInt(*v, 10)
}

// bytes is a size in B, KiB, MiB or GiB, or "?" when it is not known.
func bytes(v *int64) string {
	if v == nil {
		return "?"
	}
	n := float64(*v)
	for _, unit := range []string{"B", "KiB", "MiB", "GiB"} {
		if n < 1024 || unit == "GiB" {
			if unit == "B" {
				return fmt.Sprintf("%d B", *v)
			}
			return fmt.Sprintf("%.1f %s", n, unit)
		}
		n /= 1024
	}
	return ""
}

// syncCell sums up a running SYNC: the rows sent so far, and how many of
// its tables and partitions are done when it has several.
func syncCell(units []SyncInfo) string {
	if len(units) == 0 {
		return "-"
	}
	var rows int64
	done := 0
	for _, u := range units {
		if u.Records < 0 {
			done++
			continue
		}
		rows += u.Records
	}
	if len(units) == 1 {
		if done == 1 {
			return "done"
		}
		return fmt.Sprintf("%d rows", rows)
	}
	return fmt.Sprintf("%d rows %d/%d", rows, done, len(units))
}

// wrap writes text in lines of at most TextWidth runes, the first after
// head, the others after indent, breaking at spaces (a word longer than a
// line stays whole).
func wrap(b *strings.Builder, head, indent, text string) {
	line := head
	width := len([]rune(head))
	for i, word := range strings.Fields(text) {
		n := len([]rune(word))
		if i > 0 && width+1+n > TextWidth {
			b.WriteString(line + "\n")
			line, width = indent+word, len([]rune(indent))+n
			continue
		}
		if i > 0 {
			line += " "
			width++
		}
		line += word
		width += n
	}
	b.WriteString(line + "\n")
}
