//go:build !race

package plugintest_test

const raceEnabled = false
