package login1

// MapError exposes mapError to the external tests.
var MapError = mapError
