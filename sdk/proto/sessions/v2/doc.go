// Package sessionsv2 holds the generated protobuf and gRPC code of the
// hero_codescalers.sessions.v2 contract. Regenerate it with sdk/proto/gen.sh;
// plugin authors use the plain Go types of sdk/sessions instead.
package sessionsv2
