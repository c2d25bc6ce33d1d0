// Package limitsv1 holds the generated protobuf and gRPC code of the
// hero_codescalers.limits.v1 contract. Regenerate it with sdk/proto/gen.sh;
// plugin authors use the plain Go types of sdk/limits instead.
package limitsv1
