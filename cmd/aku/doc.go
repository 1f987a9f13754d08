// Command aku is the Altibase Kubernetes Utility: run inside the database
// container of a StatefulSet pod, it creates, synchronises, starts, flushes,
// stops, resets and drops the replication between this pod's Altibase server
// and every other pod's, so that the set can scale up and down.
//
//	aku -i                 show the parsed configuration
//	aku -p start|end|clean run a lifecycle action (postStart / preStop)
//	aku -p release --peer N release this pod's pairs with a gone pod
//	aku -v                 version, Go version, ODBC support
//
// Exit codes are listed in exitcode.go and in the README.
package main
