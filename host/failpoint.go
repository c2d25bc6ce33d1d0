package host

// failpointEnv is what a plugin gets of the host's fault injection: nothing,
// but in the test builds with the hc_failpoints tag (failpoint_on.go).
var failpointEnv = func() []string { return nil }
