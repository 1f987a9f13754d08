//go:build cgo && !noodbc

package main

import (
	"errors"

	"github.com/alexbrainman/odbc"
)

// odbcCompiled reports whether this binary can reach Altibase over ODBC.
const odbcCompiled = true

// odbcDriverName is the database/sql driver registered by the odbc import.
const odbcDriverName = "odbc"

// odbcDiagnostics returns the first diagnostic record of an ODBC error: its
// SQLSTATE and native error code (where the Altibase driver puts its code).
func odbcDiagnostics(err error) (state string, native int, ok bool) {
	var e *odbc.Error
	if !errors.As(err, &e) || len(e.Diag) == 0 {
		return "", 0, false
	}
	return e.Diag[0].State, e.Diag[0].NativeError, true
}
