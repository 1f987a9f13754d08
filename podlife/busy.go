package podlife

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aku-project/aku/conf"
)

// observeWhenFree is observe, repeated while a server's one SYSDBA session
// is taken (docs/behaviour.md, "A busy SYSDBA session"), for at most wait.
//
// Between tries every session is released: two aku runs that each hold
// one server while waiting for the other's (two pods starting at once)
// would otherwise wait for each other until both give up. The pause is
// random (0.5–1.5 s), so that two runs polling each other do not keep
// colliding. Each busy server is logged once. When wait is used up, the
// last observation is returned: the plan then refuses (start) or skips
// that server (end, clean).
func observeWhenFree(ctx context.Context, cfg *conf.Config, me int, conn Connector, tries int, clock Clock, marker Marker, wait time.Duration, log *slog.Logger) (Observation, sessions, error) {
	deadline := clock.Now().Add(wait)
	logged := map[string]bool{}
	for {
		obs, open, err := observe(ctx, cfg, me, conn, tries, clock, marker)
		if err != nil {
			return obs, open, err
		}
		var busy []string
		for _, v := range obs.Servers {
			if v.Class == ClassSysdbaBusy {
				busy = append(busy, v.Host)
			}
		}
		pause := time.Duration(500+rand.IntN(1000)) * time.Millisecond
		if len(busy) == 0 || clock.Now().Add(pause).After(deadline) {
			return obs, open, nil
		}
		open.close()
		for _, h := range busy {
			if !logged[h] {
				logged[h] = true
				log.Info("Waiting for the SYSDBA session on "+h+" (another aku run or an operator's isql -sysdba holds it).",
					"until", deadline.Format(time.RFC3339))
			}
		}
		if err := clock.Sleep(ctx, pause); err != nil {
			return obs, sessions{}, err
		}
	}
}
