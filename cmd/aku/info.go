package main

import (
	"context"
	"errors"
)

// runInfo prints the parsed configuration (aku -i, spec §5).
// Owner: the foundation work (parser/conf); replaced there.
func runInfo(ctx context.Context, o *options) error {
	return errors.New("aku -i is not built yet")
}
