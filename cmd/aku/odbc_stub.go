//go:build !cgo || noodbc

package main

// odbcCompiled reports whether this binary can reach Altibase over ODBC.
const odbcCompiled = false

// odbcDriverName is empty: no ODBC driver is linked into this binary, and
// lifecycle commands fail with errNoODBC.
const odbcDriverName = ""

func odbcDiagnostics(error) (string, int, bool) { return "", 0, false }
