package podlife

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/internal/retry"
)

// observeWhenFree is observe, repeated while a server's one SYSDBA session
// is taken (docs/behaviour.md, "A busy SYSDBA session"), for at most wait.
//
// Between tries every session is released: two aku runs that each hold
// one server while waiting for the other's (two pods starting at once)
// would otherwise wait for each other until both give up. The pause is
// random (0.5–1.5 s), so that two runs polling each other do not keep
// colliding. Each busy server is logged once.
func observeWhenFree(ctx context.Context, cfg *conf.Config, me int, conn Connector, tries int, clock Clock, marker Marker, wait time.Duration, log *slog.Logger) (Observation, sessions, error) {
	var obs Observation
	var open sessions
	logged := map[string]bool{}
	loop := retry.Loop{Clock: clock, For: wait, Pause: func(int64) time.Duration {
		return time.Duration(500+rand.IntN(1000)) * time.Millisecond
	}}
	if wait <= 0 {
		loop.Tries = 1
	}
	err := loop.Do(ctx, func(int64) error {
		var err error
		obs, open, err = observe(ctx, cfg, me, conn, tries, clock, marker)
		if err != nil {
			return retry.Stop(err)
		}
		var busy []string
		for _, v := range obs.Servers {
			if v.Class == ClassSysdbaBusy {
				busy = append(busy, v.Host)
			}
		}
		if len(busy) == 0 {
			return nil
		}
		open.close()
		for _, h := range busy {
			if !logged[h] {
				logged[h] = true
				log.Info(fmt.Sprintf("Waiting for the SYSDBA session on %s (another aku run or an operator's isql -sysdba holds it), for %s at most.", h, wait))
			}
		}
		return errBusy
	})
	if !errors.Is(err, errBusy) {
		return obs, open, err
	}
	// Still busy when the wait is used up (the last try's sessions are
	// closed): one more look, whose busy servers the plan refuses (start)
	// or skips (end, clean).
	return observe(ctx, cfg, me, conn, tries, clock, marker)
}

// errBusy is observeWhenFree's reason to try again.
var errBusy = errors.New("a server's SYSDBA session is taken")
