// Package failpoint lets the integration tests stop a plugin at a named
// point inside a call, as a crash of the host there would. It does nothing
// in every build but the test builds with the hc_failpoints tag
// (failpoint_on.go), so released plugins carry no fault injection at all.
package failpoint

// hook, when set, is called at each point.
var hook func(name string)

// Point marks the named point of a call, e.g. "accounts.batch.newusers.after".
func Point(name string) {
	if hook != nil {
		hook(name)
	}
}

// SetHook makes fn the hook, for a unit test that stops a call at a point
// (by panicking there, as a crash would end it); it returns the restore.
func SetHook(fn func(name string)) (restore func()) {
	old := hook
	hook = fn
	return func() { hook = old }
}
