package plugins

// ConfigValues exposes configValues to the external tests.
var ConfigValues = configValues
