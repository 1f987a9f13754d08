//go:build tools

// Package deps pins the project's module dependencies so that `go mod tidy`
// keeps them while packages that use them are being written. It is never built.
package deps

import (
	_ "github.com/alecthomas/participle/v2"
	_ "github.com/alexbrainman/odbc"
	_ "github.com/jackc/pgx/v5/pgproto3"
	_ "github.com/spf13/cobra"
	_ "k8s.io/api/apps/v1"
	_ "sigs.k8s.io/yaml"
)
