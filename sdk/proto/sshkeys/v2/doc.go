// Package sshkeysv2 holds the generated protobuf and gRPC code of the
// hero_codescalers.sshkeys.v2 contract. Regenerate it with sdk/proto/gen.sh;
// plugin authors use the plain Go types of sdk/sshkeys instead.
package sshkeysv2
