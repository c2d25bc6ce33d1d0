// Package commonv1 holds the generated protobuf and gRPC code of the
// hero_codescalers.common.v1 contract. Regenerate it with sdk/proto/gen.sh;
// the sdk turns its ErrorDetail into sdk/sdkerr errors.
package commonv1
