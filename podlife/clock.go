package podlife

import "github.com/aku-project/aku/internal/retry"

// Clock is the seam for time: the address check, the lock wait, the wait
// for a busy SYSDBA session and AKU_DELAY_START_COMPLETE_TIME go through it,
// so tests need not sleep.
type Clock = retry.Clock

// SystemClock is the real clock.
type SystemClock = retry.System
