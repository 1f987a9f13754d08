// Package parsertest helps test that reading aku.conf stays linear in the
// size of the file: it builds large configurations, measures what a call
// costs (CPU time of its thread, heap allocations), and checks that the
// cost of twice the input is about twice the cost. The tests of parser and
// conf use it; the product never imports it.
package parsertest
