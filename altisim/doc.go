// Package altisim is a simulated Altibase server: enough of the engine,
// replication and meta tables that aku's behaviour can be tested without
// Altibase. It is test infrastructure, shipped so that users can try aku.
//
// The rules it enforces, each with its source in spec/altibase.md, are listed
// in docs/altisim.md.
package altisim
