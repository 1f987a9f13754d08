// Command demo is `make demo`: a narrated run of the e2e harness. A 3-pod
// Altibase StatefulSet (simulated: network namespaces, dnsmasq, altisim
// servers reached over ODBC) scales up, takes writes, scales down and up
// again, and the demo prints what aku logs and what each pod holds. It
// needs root; Ctrl-C removes everything it created.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aku-project/aku/e2e"
)

func main() {
	os.Exit(run(os.Stdout))
}

func run(out io.Writer) int {
	d := &demo{out: out, start: time.Now()}
	if err := d.run(); err != nil {
		fmt.Fprintf(out, "\ndemo failed: %v\n", err)
		if errors.Is(err, e2e.ErrNotRoot) {
			fmt.Fprintln(out, "run it as root (sudo make demo): each pod is a network namespace")
		}
		return 1
	}
	return 0
}

type demo struct {
	out   io.Writer
	start time.Time
	c     *e2e.Cluster
	seen  map[int]int // bytes of each pod's log already shown
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "\n[%5.1fs] %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

func (d *demo) run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if os.Geteuid() != 0 {
		return e2e.ErrNotRoot
	}
	root, err := e2e.ModuleRoot()
	if err != nil {
		return err
	}
	bin, err := e2e.NewBinDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	d.say("Building aku and altisim (the simulated Altibase server)...")
	if err := e2e.Build(ctx, root, bin); err != nil {
		return err
	}
	d.say(`A simulated StatefulSet from examples/kubernetes/statefulset-entrypoint.yaml:
        each pod is a network namespace with its own IP and /tmp, runs the manifest's
        entry point (server start, aku -p start; on SIGTERM aku -p end, server stop)
        and has a DNS name <sts>-<n>.<svc> from a dnsmasq. aku reaches the servers
        through unixODBC, as it would reach Altibase. (The probes are polled every
        0.2 s instead of 10 s, to keep the demo short.)`)
	d.c, err = e2e.Start(ctx, e2e.Options{
		ManifestDir:    filepath.Join(root, "examples", "kubernetes"),
		Variant:        "statefulset-entrypoint",
		BinDir:         bin,
		ProbePeriod:    200 * time.Millisecond,
		ReplicationLag: 50 * time.Millisecond,
	})
	if err != nil {
		return err
	}
	defer d.c.Close()
	d.seen = map[int]int{}
	replicas := int(*d.c.StatefulSet().Spec.Replicas)

	d.say(`Scaling up to %d pods, one at a time (podManagementPolicy: OrderedReady).
        aku's lines read: level, the server a statement ran on, the replication
        object, what happened, the SQL. AKU_SERVER_COUNT is 4: aku also prepares
        the objects for a fourth pod that does not exist yet.`, replicas)
	for i := 0; i < replicas; i++ {
		if err := d.scale(ctx, i+1); err != nil {
			return err
		}
		if i == 0 {
			d.say("An application writes rows 1..5 into T1 on %s.", d.c.PodName(0))
			if err := d.insert(ctx, 0, 1, 5); err != nil {
				return err
			}
			if err := d.exec(ctx, 0, "What aku understood of aku.conf (aku -i, password masked):", "aku", "-i"); err != nil {
				return err
			}
		}
	}
	d.say(`Each pod's rows and replication objects. Columns:
        T1 rows    the keys of table T1 on that pod: every pod should hold the same
        NN:state/XSN  the object AKU_REP_NN of the pair of pods N, N: run = started
                   (replicating), off = stopped; XSN = its restart point in the log,
                   -1 = none (never started, or reset: that pod's next start copies
                   everything again by SYNC instead of catching up by FLUSH)`)
	if err := d.show(ctx); err != nil {
		return err
	}

	d.say("Writes on two pods: rows 6..8 on %s, 9..10 on %s (active-active).", d.c.PodName(0), d.c.PodName(replicas-1))
	if err := d.insert(ctx, 0, 6, 8); err != nil {
		return err
	}
	if err := d.insert(ctx, replicas-1, 9, 10); err != nil {
		return err
	}
	if err := d.show(ctx); err != nil {
		return err
	}

	last := replicas - 1
	d.say(`%s crashes (SIGKILL: no aku -p end runs). Its pairs keep their restart
        points, so the others keep the log for it. Rows 16..18 are written on %s
        meanwhile; the kubelet restarts the container, and aku rejoins by FLUSH:
        no truncate, no copy, only the gap is sent.`, d.c.PodName(last), d.c.PodName(0))
	if err := d.c.KillContainer(last); err != nil {
		return err
	}
	if err := d.insert(ctx, 0, 16, 18); err != nil {
		return err
	}
	if err := d.restart(ctx, last); err != nil {
		return err
	}
	if err := d.show(ctx); err != nil {
		return err
	}

	if err := d.exec(ctx, last, "What aku -p end would do on "+d.c.PodName(last)+" (--dry-run prints the plan and changes\n"+
		"        nothing; its reasons and dependencies are left out here):", "aku", "-p", "end", "--dry-run"); err != nil {
		return err
	}
	d.say("Scaling down to 1 pod: the leaving pods run aku -p end (flush, stop, reset), highest first.")
	for n := replicas - 1; n >= 1; n-- {
		name := d.c.PodName(n)
		t, err := d.c.DeletePod(ctx, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(d.out, "  %s stopped in %.1fs (grace period %v):\n", name, t.Duration.Seconds(), d.c.Grace())
		d.printAku(t.Log[d.seen[n]:])
		d.seen[n] = 0
	}
	if err := d.show(ctx); err != nil {
		return err
	}

	d.say("While the set is small, rows 11..15 are written on %s.", d.c.PodName(0))
	if err := d.insert(ctx, 0, 11, 15); err != nil {
		return err
	}

	d.say("Scaling up to %d again: the returning pods were reset, so they SYNC from the master.", replicas)
	for n := 2; n <= replicas; n++ {
		if err := d.scale(ctx, n); err != nil {
			return err
		}
	}
	if err := d.show(ctx); err != nil {
		return err
	}
	const want = "1..18 (18 rows)"
	for i := 0; i < replicas; i++ {
		ks, err := d.c.Keys(ctx, i, "T1")
		if err != nil {
			return err
		}
		if got := ranges(ks); got != want {
			return fmt.Errorf("%s holds %s, want rows %s", d.c.PodName(i), got, want)
		}
	}
	d.say("Done: every pod holds rows 1..18, each once. Removing the pods, DNS and network.")
	return nil
}

// restart restarts a killed pod's container, waits for its start and
// prints aku's output of that start.
func (d *demo) restart(ctx context.Context, i int) error {
	began := time.Now()
	if err := d.c.RestartContainer(ctx, i); err != nil {
		return err
	}
	if err := d.c.WaitStarted(ctx, i); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "  %s restarted in %.1fs; its entry point printed:\n", d.c.PodName(i), time.Since(began).Seconds())
	log := d.c.Pod(i).Logs() // the new container's
	d.printAku(log)
	d.seen[i] = len(log)
	return nil
}

// exec runs a command in a pod's container and prints its output.
func (d *demo) exec(ctx context.Context, i int, title string, argv ...string) error {
	d.say("%s", title)
	r, err := d.c.Exec(ctx, i, 30*time.Second, argv...)
	if err != nil {
		return err
	}
	if r.ExitCode != 0 {
		return fmt.Errorf("%s: exit code %d\n%s", strings.Join(argv, " "), r.ExitCode, r.Output)
	}
	for _, l := range strings.Split(strings.TrimRight(r.Output, "\n"), "\n") {
		if t := strings.TrimSpace(l); strings.Contains(t, ": ") && !strings.HasPrefix(t, "note:") && !strings.HasPrefix(t, "warning:") &&
			(strings.HasPrefix(t, "why:") || strings.HasPrefix(t, "after:") || strings.HasPrefix(t, "optional:") ||
				strings.HasPrefix(t, "only if") || strings.HasPrefix(t, "if it fails:") || strings.HasPrefix(t, "steps:")) {
			continue // a plan's details
		}
		fmt.Fprintf(d.out, "    %s\n", clip(strings.ReplaceAll(l, d.svc(), "")))
	}
	return nil
}

// svc is the headless Service's part of the pods' DNS names, which the
// demo leaves out of long lines.
func (d *demo) svc() string { return strings.TrimPrefix(d.c.Host(0), d.c.PodName(0)) }

// clip keeps a line within the demo's width.
func clip(l string) string {
	const width = 94
	if r := []rune(l); len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return l
}

// scale scales to n and prints the new pod's aku output.
func (d *demo) scale(ctx context.Context, n int) error {
	began := time.Now()
	if err := d.c.Scale(ctx, n); err != nil {
		return err
	}
	i := n - 1
	fmt.Fprintf(d.out, "  %s (%s) started in %.1fs; its entry point printed:\n", d.c.PodName(i), d.c.Pod(i).IP, time.Since(began).Seconds())
	log := d.c.Pod(i).Logs()
	d.printAku(log)
	d.seen[i] = len(log)
	return nil
}

// printAku prints aku's lines from a container log: the banners as they
// are, the log lines without their date and thread fields.
func (d *demo) printAku(log string) {
	for _, l := range strings.Split(log, "\n") {
		switch {
		case strings.HasPrefix(l, "AKU "):
			fmt.Fprintf(d.out, "    %s\n", l)
		case strings.HasPrefix(l, "[AKU]"):
			fmt.Fprintf(d.out, "    %s\n", clip(strings.ReplaceAll(shorten(l), d.svc(), "")))
		case strings.HasPrefix(l, "entrypoint: aku"):
			fmt.Fprintf(d.out, "    (%s)\n", l)
		}
	}
}

// shorten turns an aku log line
// "[AKU][date][tid] [LEVEL][code][pod][replication] message sql=..." into
// "LEVEL pod replication message: statement", without the reasons of
// unreachable peers (absent pods are normal while the set is small).
func shorten(l string) string {
	f := strings.SplitN(l, "] ", 2)
	if len(f) != 2 {
		return l
	}
	l = f[1]
	var fields []string
	for strings.HasPrefix(l, "[") && len(fields) < 4 {
		end := strings.Index(l, "]")
		if end < 0 {
			break
		}
		fields = append(fields, l[1:end])
		l = l[end+1:]
	}
	msg := strings.TrimSpace(l)
	if i := strings.Index(msg, " sql="); i > 0 {
		msg = msg[:i] + " " + strings.Trim(msg[i+5:], `"`)
	}
	if i := strings.Index(msg, ` path=`); i > 0 {
		msg = msg[:i]
	}
	if len(fields) == 4 {
		return fmt.Sprintf("%-5s %-14s %-10s %s", fields[0], fields[2], fields[3], msg)
	}
	return msg
}

func (d *demo) insert(ctx context.Context, ordinal, from, to int) error {
	s, err := d.c.Connect(ctx, ordinal, false)
	if err != nil {
		return err
	}
	defer s.Close()
	for k := from; k <= to; k++ {
		if err := s.Exec(ctx, fmt.Sprintf("INSERT INTO T1 VALUES (%d, %d)", k, ordinal)); err != nil {
			return err
		}
	}
	return nil
}

// show waits (up to 10 s) until every pod holds the same rows, as
// replication settles, then prints each pod's rows and replication objects
// (SYSTEM_.SYS_REPLICATIONS_).
func (d *demo) show(ctx context.Context) error {
	for deadline := time.Now().Add(10 * time.Second); ; {
		same, err := d.settled(ctx)
		if err != nil {
			return err
		}
		if same || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(d.out, "  %-15s %-24s %s\n", "pod", "T1 rows", "replication objects (NN:state/XSN)")
	for i := 0; i < 6; i++ {
		if d.c.Pod(i) == nil {
			continue
		}
		ks, err := d.c.Keys(ctx, i, "T1")
		if err != nil {
			return err
		}
		repl, err := d.c.Replications(ctx, i, false)
		if err != nil {
			return err
		}
		var names []string
		for n := range repl {
			names = append(names, n)
		}
		sort.Strings(names)
		var rs []string
		for _, n := range names {
			st := "off"
			if repl[n].Started {
				st = "run"
			}
			rs = append(rs, fmt.Sprintf("%s:%s/%d", strings.TrimPrefix(n, "AKU_REP_"), st, repl[n].XSN))
		}
		fmt.Fprintf(d.out, "  %-15s %-24s %s\n", d.c.PodName(i), ranges(ks), strings.Join(rs, " "))
	}
	return nil
}

// settled reports whether every pod holds the same keys in T1.
func (d *demo) settled(ctx context.Context) (bool, error) {
	first := ""
	for i := 0; i < 6; i++ {
		if d.c.Pod(i) == nil {
			continue
		}
		ks, err := d.c.Keys(ctx, i, "T1")
		if err != nil {
			return false, err
		}
		if r := ranges(ks); first == "" {
			first = r
		} else if r != first {
			return false, nil
		}
	}
	return true, nil
}

// ranges prints sorted keys compactly: "1..5, 7 (6 rows)".
func ranges(ks []int) string {
	sort.Ints(ks)
	var parts []string
	for i := 0; i < len(ks); {
		j := i
		for j+1 < len(ks) && ks[j+1] == ks[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d..%d", ks[i], ks[j]))
		} else {
			parts = append(parts, strconv.Itoa(ks[i]))
		}
		i = j + 1
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return fmt.Sprintf("%s (%d rows)", strings.Join(parts, ", "), len(ks))
}
