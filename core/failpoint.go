package core

// failpointHook, when set, is called before and after each step of create
// and delete with names like "create.volume.before". It is nil in every
// build but the test builds with the hc_failpoints tag (failpoint_on.go),
// so production binaries carry no fault injection at all.
var failpointHook func(name string) error

func failpoint(name string) error {
	if failpointHook == nil {
		return nil
	}
	return failpointHook(name)
}
