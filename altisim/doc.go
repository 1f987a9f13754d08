// Package altisim is a simulated Altibase server: enough of the engine,
// replication and meta tables that aku's behaviour can be tested without
// Altibase. It is test infrastructure, shipped so that users can try aku.
//
// The rules it enforces, each with its public source (the Altibase manuals,
// the CloudNative FAQ, the message catalogues) or marked as inferred, are
// listed in docs/altisim.md, "Modelled rules".
package altisim
