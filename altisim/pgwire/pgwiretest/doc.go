// Package pgwiretest serves altisim engines over the PostgreSQL wire for
// tests, and gives a test a unixODBC configuration of its own, as
// net/http/httptest does for HTTP servers.
package pgwiretest
