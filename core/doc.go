// Package core holds hero_codescalers' domain: the types (users, groups,
// nodes, admins, audit events, sessions, plugin descriptions), their
// validation, the one error type with its codes, the state interface the
// host persists through, and the use cases that span state and plugins.
//
// core imports only the standard library and the sdk contracts, so the use
// cases can be driven by the JSON-RPC server today and by a fleet reconcile
// loop tomorrow without assuming who the caller is.
package core
