package core

// SetFailpointHook lets the external tests inject failures at the steps'
// failpoints without a tagged build.
func SetFailpointHook(fn func(string) error) func() {
	old := failpointHook
	failpointHook = fn
	return func() { failpointHook = old }
}
