// Package archtest holds the tests that keep the house as DESIGN.md §7 drew
// it: which folder may import which, and a package comment on every package.
package archtest
