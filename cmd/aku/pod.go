package main

import (
	"context"
	"errors"
)

// runPod runs aku -p start|end|clean (spec §6–§7).
// Owner: the lifecycle work (podlife); replaced there.
func runPod(ctx context.Context, o *options) error {
	return errors.New("aku -p is not built yet")
}
