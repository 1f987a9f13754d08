package e2e

import (
	"context"
	"testing"
	"time"
)

func TestSmokeMaster(t *testing.T) {
	c := newCluster(t, testOptions(""))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mustScale(t, ctx, c, 4)
	t.Log(c.Pod(3).Logs())
	r, err := c.Replications(ctx, 0)
	t.Log(r, err)
}
