// Package osutil is what the built-in plugins share for touching the OS
// safely: running a tool without a shell and turning its failure into the
// sdk's typed command error, and placing files and directories atomically
// without ever following a symlink.
package osutil
