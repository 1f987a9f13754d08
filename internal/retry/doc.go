// Package retry is aku's one notion of time and of trying again: the Clock
// seam that tests replace, a context-aware Sleep, and Loop, the loop behind
// every retry in aku (a failed statement, the address check, the run lock,
// a busy SYSDBA session).
package retry
