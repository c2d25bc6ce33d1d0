// Package osutil is what the built-in plugins share for running tools and
// counting usage: running a tool without a shell and turning its failure
// into the sdk's typed command error, and du's count of a tree. Placing
// and reading files, fenced by the policy and never following a symlink,
// is sdk/fsutil's.
package osutil
